import type { Scorer } from '../scorer';
import { isBlank } from '../scorer';
import { Featurizer } from './features';
import { readScorerFile, scorerVersion, type OfflineModel, type ScorerFile } from './file';
import { scoreWith } from './train';

/** A scorer from a trained model, in process: no network, deterministic, thousands of texts per second. */
export function offlineScorerFromModel(model: OfflineModel, file: Pick<ScorerFile, 'fingerprint' | 'about' | 'training'>, opts: { builtin?: boolean } = {}): Scorer {
  const featurizer = new Featurizer(model.features);
  const about = file.about;
  return {
    name: 'offline',
    // the fingerprint, not the file name: renaming or moving the file keeps the version
    version: scorerVersion(file),
    notes: [],
    ...(about
      ? {
          about: {
            ...(opts.builtin ? { builtin: true } : {}),
            description: about.description,
            ...('sources' in file.training ? { trainingData: file.training.sources.map((s) => ({ name: s.name, licence: s.licence })) } : {}),
            agreement: { reference: about.agreement.reference, heldOutRows: about.agreement.heldOutRows, spearmanContinuations: about.agreement.spearmanContinuations, spearmanPrompts: about.agreement.spearmanPrompts },
            advice: about.advice,
          },
        }
      : {}),
    async score(texts) {
      return texts.map((t) => (isBlank(t) ? null : scoreWith(model, featurizer, t)));
    },
    async close() {},
  };
}

export async function loadOfflineScorer(file: string): Promise<{ scorer: Scorer; file: ScorerFile }> {
  const loaded = await readScorerFile(file);
  return { scorer: offlineScorerFromModel(loaded.model, loaded.file), file: loaded.file };
}
