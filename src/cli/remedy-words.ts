// How the CLI says the remedies core errors name: by its flags and commands.
import type { RemedyWords } from '../core/model/errors';

export const CLI_REMEDY_WORDS: RemedyWords = {
  scoreName: '--name',
  probeModule: '--module',
  textField: '--text-field',
  labelField: '--label-field',
  positiveLabels: '--positive',
  positiveTexts: 'the positive ones (--pos FILE)',
  negativeTexts: 'the negative texts (--neg FILE)',
  itemLimit: '--limit',
  heldOut: '--held-out',
  model: '--model',
  trainProbe: '`sclab probe train --model …`',
};
