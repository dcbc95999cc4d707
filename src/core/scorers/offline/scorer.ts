import type { Scorer } from '../scorer';
import { isBlank } from '../scorer';
import { Featurizer } from './features';
import { readScorerFile, type OfflineModel, type ScorerFile } from './file';
import { scoreWith } from './train';

/** A scorer from a trained model, in process: no network, deterministic, thousands of texts per second. */
export function offlineScorerFromModel(model: OfflineModel, fingerprint: string): Scorer {
  const featurizer = new Featurizer(model.features);
  return {
    name: 'offline',
    // the fingerprint, not the file name: renaming or moving the file keeps the version
    version: `logreg-ngrams/${fingerprint.slice(0, 12)}`,
    notes: [],
    async score(texts) {
      return texts.map((t) => (isBlank(t) ? null : scoreWith(model, featurizer, t)));
    },
    async close() {},
  };
}

export async function loadOfflineScorer(file: string): Promise<{ scorer: Scorer; file: ScorerFile }> {
  const loaded = await readScorerFile(file);
  return { scorer: offlineScorerFromModel(loaded.model, loaded.file.fingerprint), file: loaded.file };
}
