// Trains one offline scorer on several sources at once (the shipped default): labelled sets (0/1, classes balanced
// within each set) and reference scores (a reference scorer's probabilities as soft targets). Each source carries
// a fixed share of the total training weight, so a large set does not drown a small one. Deterministic: the same
// rows in the same order give the same weights bit for bit.
import { createHash } from 'node:crypto';
import { SclabError } from '../../model/errors';
import { DEFAULT_FEATURES, FeatureConfigSchema, Featurizer, type FeatureConfig, type SparseVector } from './features';
import type { BlendSource, BlendTrainingInfo, OfflineModel } from './file';
import { trainLogistic } from './logistic';

export interface BlendSet {
  source: Omit<BlendSource, 'rows' | 'sha256'>;
  /** the source file's bytes, for the provenance hash */
  bytes: Uint8Array;
  /** target in 0…1: a class (labels) or a reference probability (reference-scores) */
  rows: ReadonlyArray<{ text: string; target: number }>;
}

export interface BlendOptions {
  features?: Partial<FeatureConfig>;
  l2: number;
  seed: number;
  maxIterations?: number;
  tool: string;
}

/** Per-row training weights: each set sums to its share; within a labelled set each class to half of it. */
export function blendWeights(sets: readonly BlendSet[]): Float64Array {
  const weights: number[] = [];
  for (const set of sets) {
    const { share, target, name } = set.source;
    if (set.rows.length === 0) throw new SclabError('dataset', `training source "${name}" has no rows`);
    if (target === 'labels') {
      const pos = set.rows.filter((r) => r.target === 1).length;
      const neg = set.rows.length - pos;
      if (pos === 0 || neg === 0 || pos + set.rows.filter((r) => r.target === 0).length !== set.rows.length) {
        throw new SclabError('dataset', `training source "${name}" needs labels 0 and 1, both present (found ${pos} positive, ${neg} other)`);
      }
      for (const r of set.rows) weights.push(share * (r.target === 1 ? 0.5 / pos : 0.5 / neg));
    } else {
      for (const r of set.rows) {
        if (!(r.target >= 0 && r.target <= 1)) throw new SclabError('dataset', `training source "${name}": reference score ${r.target} is not in 0…1`);
        weights.push(share / set.rows.length);
      }
    }
  }
  // scaled to mean 1, so that l2 means the same as in single-file training
  const total = weights.reduce((a, b) => a + b, 0);
  return Float64Array.from(weights, (w) => (w * weights.length) / total);
}

export function trainBlend(sets: readonly BlendSet[], opts: BlendOptions, now: Date = new Date()): { model: OfflineModel; training: BlendTrainingInfo } {
  const features = FeatureConfigSchema.parse({ ...DEFAULT_FEATURES, ...opts.features });
  const featurizer = new Featurizer(features);
  const sampleWeights = blendWeights(sets);
  const rows: SparseVector[] = [];
  const targets: number[] = [];
  for (const set of sets) {
    for (const r of set.rows) {
      rows.push(featurizer.featurize(r.text));
      targets.push(r.target);
    }
  }
  const fit = trainLogistic(rows, targets, features.buckets, { l2: opts.l2, sampleWeights, maxIterations: opts.maxIterations ?? 300 });
  return {
    model: { features, weights: fit.weights, bias: fit.bias },
    training: {
      sources: sets.map((s) => ({ ...s.source, sha256: createHash('sha256').update(s.bytes).digest('hex'), rows: s.rows.length })),
      seed: opts.seed,
      l2: opts.l2,
      iterations: fit.iterations,
      converged: fit.converged,
      trainedAt: now.toISOString(),
      tool: opts.tool,
    },
  };
}
