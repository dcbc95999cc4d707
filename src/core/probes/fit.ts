// From collected hidden states to probe layers: per-layer logistic probes, the paper's classifier direction, and the
// statements direction. Pure (no model, no files), so it is tested on hand-made vectors.
import { accuracy, LOGISTIC_DEFAULTS, type Scaling, trainLogistic } from './logistic';
import type { ProbeLayer } from './schema';
import type { Split } from './split';
import { encodeF32 } from './vectors';

export interface FitOptions {
  l2: number;
  scaling: Scaling;
  maxIterations?: number;
  gradientTolerance?: number;
}

export interface FitReport {
  layer: number;
  heldOutAccuracy: number | null;
  trainAccuracy: number | null;
  iterations: number;
  stop: string;
}

const pick = <T>(xs: readonly T[], idx: readonly number[]): T[] => idx.map((i) => xs[i]!);

function fitOne(rows: readonly Float32Array[], labels: ArrayLike<number>, split: Split, opts: FitOptions) {
  const y = Array.from(labels);
  const trainRows = pick(rows, split.train);
  const trainY = pick(y, split.train);
  const model = trainLogistic(trainRows, trainY, {
    l2: opts.l2,
    scaling: opts.scaling,
    sampleWeights: split.trainWeights,
    maxIterations: opts.maxIterations ?? LOGISTIC_DEFAULTS.maxIterations,
    gradientTolerance: opts.gradientTolerance ?? LOGISTIC_DEFAULTS.gradientTolerance,
  });
  return {
    model,
    trainAccuracy: accuracy(model, trainRows, trainY),
    heldOutAccuracy: accuracy(model, pick(rows, split.heldOut), pick(y, split.heldOut)),
  };
}

/** One logistic probe per layer; byLayer[k] holds one vector per labelled text for layers[k]. */
export function fitLogisticLayers(layers: number[], byLayer: Float32Array[][], labels: ArrayLike<number>, split: Split, opts: FitOptions): { layers: ProbeLayer[]; reports: FitReport[] } {
  const out: ProbeLayer[] = [];
  const reports: FitReport[] = [];
  layers.forEach((layer, k) => {
    const r = fitOne(byLayer[k]!, labels, split, opts);
    out.push({ layer, weights: encodeF32(r.model.weights), bias: r.model.bias, heldOutAccuracy: r.heldOutAccuracy, trainAccuracy: r.trainAccuracy });
    reports.push({ layer, heldOutAccuracy: r.heldOutAccuracy, trainAccuracy: r.trainAccuracy, iterations: r.model.iterations, stop: r.model.stop });
  });
  return { layers: out, reports };
}

/**
 * The paper's toxicity direction: a classifier trained on the last layer; its "toxic" weight row is the direction at
 * every layer. A 2-class softmax classifier with both rows L2-penalised has w_toxic = −w_nontoxic = w/2 at its
 * optimum, where w is the binary logistic weight vector, so w points the same way as the toxic row.
 * Accuracy is known only where the classifier was trained (the last layer).
 */
export function fitClassifierDirection(
  lastLayer: number,
  lastRows: Float32Array[],
  labels: ArrayLike<number>,
  split: Split,
  layers: number[],
  opts: FitOptions,
): { layers: ProbeLayer[]; reports: FitReport[] } {
  const r = fitOne(lastRows, labels, split, opts);
  const weights = encodeF32(r.model.weights);
  const out = layers.map(
    (layer): ProbeLayer => ({
      layer,
      weights,
      bias: null,
      heldOutAccuracy: layer === lastLayer ? r.heldOutAccuracy : null,
      trainAccuracy: layer === lastLayer ? r.trainAccuracy : null,
    }),
  );
  return { layers: out, reports: [{ layer: lastLayer, heldOutAccuracy: r.heldOutAccuracy, trainAccuracy: r.trainAccuracy, iterations: r.model.iterations, stop: r.model.stop }] };
}

/** The paper's bias direction: per layer, the mean of the statements' last-token states. */
export function fitStatementsDirection(layers: number[], byLayer: Float32Array[][]): ProbeLayer[] {
  return layers.map((layer, k) => {
    const rows = byLayer[k]!;
    const mean = new Float64Array(rows[0]!.length);
    for (const r of rows) for (let j = 0; j < mean.length; j++) mean[j] = mean[j]! + r[j]! / rows.length;
    return { layer, weights: encodeF32(mean), bias: null, heldOutAccuracy: null };
  });
}

/** The contrast direction per layer: mean of the positive rows minus mean of the negative rows (float64 sums). */
export function fitContrastDirection(layers: number[], positive: Float32Array[][], negative: Float32Array[][]): ProbeLayer[] {
  const mean = (rows: Float32Array[]): Float64Array => {
    const m = new Float64Array(rows[0]!.length);
    for (const r of rows) for (let j = 0; j < m.length; j++) m[j] = m[j]! + r[j]!;
    for (let j = 0; j < m.length; j++) m[j] = m[j]! / rows.length;
    return m;
  };
  return layers.map((layer, k) => {
    const p = mean(positive[k]!);
    const n = mean(negative[k]!);
    return { layer, weights: encodeF32(p.map((v, j) => v - n[j]!)), bias: null, heldOutAccuracy: null };
  });
}

/** Middle-to-late layers, the region the paper reads (≈ the upper half): [⌈L/2⌉, last probe layer], clipped. */
export function defaultBand(nLayers: number, layers: number[]): [number, number] {
  const lo = Math.min(...layers);
  const hi = Math.max(...layers);
  const start = Math.ceil(nLayers / 2);
  return start >= lo && start <= hi ? [start, hi] : [lo, hi];
}
