// L2-regularised binary logistic regression, fitted with L-BFGS.
//
// Objective (θ = w, b over centred, scaled features z):
//   Σᵢ sᵢ·[softplus(w·zᵢ + b) − yᵢ·(w·zᵢ + b)] / Σᵢ sᵢ  +  λ/2·‖w‖²        (the bias is not penalised)
// sᵢ are sample weights (class balancing). Features are centred and scaled before fitting, so one λ means the same
// across layers whose activation scales differ by orders of magnitude:
//   'scalar' (default): one scale for all features (the root mean feature variance). This leaves directions alone:
//                       the fitted w points exactly where an L2 fit on raw states points, which the cosine needs.
//   'per-feature':      z-scores (a constant feature gets weight 0). Better conditioned, but the raw-space w then
//                       over-weights low-variance dimensions, so its cosines differ from the raw-space fit's.
//   'none':             raw features.
// The fitted model is mapped back to the raw hidden-state space, so w is the direction a cosine uses and
// sigmoid(w·h + b) needs no preprocessing. λ = 1/n matches scikit-learn's default C = 1 (on the scaled features).
import { minimizeLbfgs } from './lbfgs';
import { sigmoid } from './vectors';

export interface LogisticOptions {
  /** λ above; ≥ 0 */
  l2: number;
  /** feature scaling before fitting (default 'scalar'); the result is in raw space either way */
  scaling?: Scaling;
  /** per-row weights; default 1 each */
  sampleWeights?: ArrayLike<number>;
  maxIterations?: number;
  gradientTolerance?: number;
}

export type Scaling = 'scalar' | 'per-feature' | 'none';
export const SCALINGS: readonly Scaling[] = ['scalar', 'per-feature', 'none'];

export interface LogisticModel {
  /** raw-space weights */
  weights: Float64Array;
  bias: number;
  iterations: number;
  stop: 'gradient' | 'stagnation' | 'max-iterations';
  /** the objective at the solution (scaled space) */
  loss: number;
}

export const LOGISTIC_DEFAULTS = { maxIterations: 1000, gradientTolerance: 1e-6 } as const;

/** Fits rows (each of length d) to labels 0/1. */
export function trainLogistic(rows: ReadonlyArray<ArrayLike<number>>, labels: ArrayLike<number>, opts: LogisticOptions): LogisticModel {
  const n = rows.length;
  if (n === 0) throw new Error('no training rows');
  if (labels.length !== n) throw new Error(`${n} rows but ${labels.length} labels`);
  const d = rows[0]!.length;
  const scaling = opts.scaling ?? 'scalar';

  const mean = new Float64Array(d);
  const scale = new Float64Array(d).fill(1); // z = (x − mean) · scale
  if (scaling !== 'none') {
    for (const r of rows) for (let j = 0; j < d; j++) mean[j] = mean[j]! + r[j]! / n;
    const v = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) v[j] = v[j]! + (r[j]! - mean[j]!) ** 2 / n;
    if (scaling === 'per-feature') for (let j = 0; j < d; j++) scale[j] = v[j]! > 0 ? 1 / Math.sqrt(v[j]!) : 0;
    else {
      const rms = Math.sqrt(v.reduce((a, x) => a + x, 0) / d);
      scale.fill(rms > 0 ? 1 / rms : 1);
    }
  }
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.length !== d) throw new Error(`row ${i} has ${r.length} numbers, row 0 has ${d}`);
    for (let j = 0; j < d; j++) Z[i * d + j] = (r[j]! - mean[j]!) * scale[j]!;
  }
  const y = Float64Array.from(labels as ArrayLike<number>);
  const s = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    s[i] = opts.sampleWeights ? opts.sampleWeights[i]! : 1;
    total += s[i]!;
  }
  for (let i = 0; i < n; i++) s[i] = s[i]! / total;
  const lambda = opts.l2;

  const fg = (theta: Float64Array, grad: Float64Array): number => {
    const b = theta[d]!;
    grad.fill(0);
    let loss = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const off = i * d;
      let m = b;
      for (let j = 0; j < d; j++) m += theta[j]! * Z[off + j]!;
      // softplus(m) − y·m, stably
      loss += s[i]! * (Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m))) - y[i]! * m);
      const r = s[i]! * (sigmoid(m) - y[i]!);
      gb += r;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! + r * Z[off + j]!;
    }
    let reg = 0;
    for (let j = 0; j < d; j++) {
      reg += theta[j]! * theta[j]!;
      grad[j] = grad[j]! + lambda * theta[j]!;
    }
    grad[d] = gb;
    return loss + (lambda / 2) * reg;
  };

  const r = minimizeLbfgs(fg, new Float64Array(d + 1), {
    maxIterations: opts.maxIterations ?? LOGISTIC_DEFAULTS.maxIterations,
    gradientTolerance: opts.gradientTolerance ?? LOGISTIC_DEFAULTS.gradientTolerance,
  });
  // back to raw space: w·z + b = Σ wⱼ·scaleⱼ·(xⱼ − meanⱼ) + b
  const weights = new Float64Array(d);
  let bias = r.x[d]!;
  for (let j = 0; j < d; j++) {
    weights[j] = r.x[j]! * scale[j]!;
    bias -= weights[j]! * mean[j]!;
  }
  return { weights, bias, iterations: r.iterations, stop: r.stop, loss: r.f };
}

export function predictProbability(model: { weights: ArrayLike<number>; bias: number }, x: ArrayLike<number>): number {
  let m = model.bias;
  for (let j = 0; j < x.length; j++) m += model.weights[j]! * x[j]!;
  return sigmoid(m);
}

/** share of rows whose probability lands on the right side of 0.5 */
export function accuracy(model: { weights: ArrayLike<number>; bias: number }, rows: ReadonlyArray<ArrayLike<number>>, labels: ArrayLike<number>): number | null {
  if (rows.length === 0) return null;
  let ok = 0;
  rows.forEach((x, i) => {
    if ((predictProbability(model, x) >= 0.5 ? 1 : 0) === labels[i]) ok++;
  });
  return ok / rows.length;
}
