// Trains the offline scorer: a seeded, stratified held-out split, hashed n-gram features, L2 logistic regression
// on the training part, accuracy (threshold 0.5) and ROC AUC on the held-out part. The saved model is the one
// trained on the training part, so the held-out figures describe exactly the weights in the file.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { SclabError } from '../../model/errors';
import { rocAuc } from '../stats';
import { seededRandom, shuffle } from '../../util/random';
import { DEFAULT_FEATURES, FeatureConfigSchema, Featurizer, type FeatureConfig } from './features';
import { toScorerFile, type OfflineModel, type ScorerFile, type TrainingInfo } from './file';
import type { LabelledRow } from './labelled';
import { dotSparse, sigmoid, trainLogistic } from './logistic';

export interface TrainOptions {
  features?: Partial<FeatureConfig>;
  /** L2 strength on the mean loss; default 1e-5 (the plateau of held-out AUC on the Jigsaw sample, 1e-6…1e-5) */
  l2?: number;
  /** share of rows held out for evaluation, stratified by label; default 0.2 (0 = none) */
  holdout?: number;
  seed?: number;
  /** balanced (default): each class carries half the loss whatever its size; none: every row counts the same */
  classWeight?: 'balanced' | 'none';
  maxIterations?: number;
}

export interface TrainSource {
  file: string;
  bytes: Uint8Array;
  textField: string;
  labelField: string;
  positive?: string[];
  tool: string;
}

export const TRAIN_DEFAULTS = { l2: 1e-5, holdout: 0.2, seed: 42, classWeight: 'balanced', maxIterations: 300 } as const;

export { seededRandom };


/** Indices of the training and held-out rows, stratified by label, in a seeded order. */
export function stratifiedSplit(labels: ArrayLike<number>, holdout: number, seed: number): { train: number[]; test: number[] } {
  const rand = seededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) idx.push(i);
    shuffle(idx, rand);
    const nTest = Math.round(idx.length * holdout);
    test.push(...idx.slice(0, nTest));
    train.push(...idx.slice(nTest));
  }
  return { train: shuffle(train, rand), test: test.sort((a, b) => a - b) };
}

export function scoreWith(model: OfflineModel, featurizer: Featurizer, text: string): number {
  return sigmoid(dotSparse(model.weights, featurizer.featurize(text)) + model.bias);
}

export function trainOfflineScorer(rows: LabelledRow[], source: TrainSource, opts: TrainOptions = {}, now: Date = new Date()): ScorerFile & { training: TrainingInfo } {
  const features = FeatureConfigSchema.parse({ ...DEFAULT_FEATURES, ...opts.features });
  const l2 = opts.l2 ?? TRAIN_DEFAULTS.l2;
  const holdout = opts.holdout ?? TRAIN_DEFAULTS.holdout;
  const seed = opts.seed ?? TRAIN_DEFAULTS.seed;
  const classWeight = opts.classWeight ?? TRAIN_DEFAULTS.classWeight;
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new SclabError('config', `l2 must be a number ≥ 0 (got ${l2})`);
  if (!(holdout >= 0 && holdout <= 0.9)) throw new SclabError('config', `holdout must be in 0…0.9 (got ${holdout})`);
  const labels = Uint8Array.from(rows, (r) => r.label);
  const positives = labels.reduce((s, y) => s + y, 0);
  const negatives = rows.length - positives;
  if (positives < 2 || negatives < 2) {
    throw new SclabError('dataset', `${source.file}: training needs at least 2 positive and 2 negative rows (found ${positives} positive, ${negatives} negative)`);
  }
  const { train, test } = stratifiedSplit(labels, holdout, seed);
  const featurizer = new Featurizer(features);
  const trainRows = train.map((i) => featurizer.featurize(rows[i]!.text));
  const trainLabels = Uint8Array.from(train, (i) => labels[i]!);
  const trainPos = trainLabels.reduce((s, y) => s + y, 0);
  const weights = new Float64Array(train.length);
  for (let k = 0; k < train.length; k++) {
    weights[k] = classWeight === 'none' ? 1 : trainLabels[k] === 1 ? train.length / (2 * trainPos) : train.length / (2 * (train.length - trainPos));
  }
  const fit = trainLogistic(trainRows, trainLabels, features.buckets, { l2, sampleWeights: weights, maxIterations: opts.maxIterations ?? TRAIN_DEFAULTS.maxIterations });
  const model: OfflineModel = { features, weights: fit.weights, bias: fit.bias };

  const testScores = test.map((i) => scoreWith(model, featurizer, rows[i]!.text));
  const testLabels = test.map((i) => labels[i]!);
  const correct = testScores.filter((s, k) => (s >= 0.5 ? 1 : 0) === testLabels[k]).length;
  const auc = test.length > 0 ? rocAuc(testScores, testLabels) : NaN;
  const training: TrainingInfo = {
    data: {
      file: path.basename(source.file),
      sha256: createHash('sha256').update(source.bytes).digest('hex'),
      rows: rows.length,
      textField: source.textField,
      labelField: source.labelField,
      ...(source.positive ? { positive: source.positive } : {}),
    },
    positives,
    negatives,
    seed,
    holdout,
    trainRows: train.length,
    l2,
    classWeight,
    iterations: fit.iterations,
    converged: fit.converged,
    heldOut: { n: test.length, accuracy: test.length > 0 ? correct / test.length : null, auc: Number.isFinite(auc) ? auc : null },
    trainedAt: now.toISOString(),
    tool: source.tool,
  };
  return { ...toScorerFile(model, training), training };
}
