// How the extension says the remedies core errors name: by its settings, prompts and commands.
import type { RemedyWords } from '../core/model/errors';

export const EXTENSION_REMEDY_WORDS: RemedyWords = {
  scoreName: 'score name',
  probeModule: 'the module',
  textField: 'a text field',
  labelField: 'a label field',
  positiveLabels: 'the positive labels',
  positiveTexts: 'the positive texts',
  negativeTexts: 'the negative texts',
  itemLimit: 'the item limit',
  heldOut: 'the held-out share',
  model: 'the backend\'s "model" (sclab.backends)',
  trainProbe: 'Train Probe… on this backend',
};
