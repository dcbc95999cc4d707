// The toxicity scorer shipped with sclab, used by generation tasks whose experiment names no scorer (and by an
// offline scorer ref without a model file). Its weights are builtin/sclab-toxicity.scorer.json, the output of
// `npm run train:scorer` (scripts/train-scorer.ts); esbuild bundles them into the CLI and the extension, so it needs
// no download, no key and no network. The file carries its model card: training data with licences, and the
// agreement with the Perspective API measured on RealToxicityPrompts rows held out from training.
import type { Scorer } from '../scorer';
import { checkScorerFile, type OfflineModel, type ScorerFile } from './file';
import { offlineScorerFromModel } from './scorer';
import shipped from './builtin/sclab-toxicity.scorer.json';

/** what `--scorer builtin` and error messages call it */
export const BUILTIN_SCORER_NAME = 'builtin';

let loaded: { file: ScorerFile; model: OfflineModel } | undefined;

/** The shipped model, checked against its fingerprint once per process. */
export function builtinScorerModel(): { file: ScorerFile; model: OfflineModel } {
  loaded ??= checkScorerFile(shipped, 'the built-in toxicity scorer (src/core/scorers/offline/builtin/sclab-toxicity.scorer.json)');
  return loaded;
}

export function builtinToxicityScorer(): Scorer {
  const { file, model } = builtinScorerModel();
  return offlineScorerFromModel(model, file, { builtin: true });
}
