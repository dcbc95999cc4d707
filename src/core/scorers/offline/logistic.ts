// L2-regularised logistic regression on sparse rows, fitted by L-BFGS (full batch, deterministic: the same rows in
// the same order give the same weights bit for bit). Objective: the weighted mean log-loss plus (l2 / 2)·‖w‖²;
// the bias is not regularised.
import type { SparseVector } from './features';

export interface LogisticOptions {
  l2: number;
  /** per-row weights (e.g. to balance classes); default 1 */
  sampleWeights?: Float64Array;
  maxIterations?: number;
  /** stop when the objective improves by less than this, relatively */
  tolerance?: number;
  /** L-BFGS memory */
  memory?: number;
}

export interface LogisticModel {
  weights: Float32Array;
  bias: number;
  iterations: number;
  converged: boolean;
  loss: number;
}

export function dotSparse(w: ArrayLike<number>, x: SparseVector): number {
  let s = 0;
  const { indices, values } = x;
  for (let k = 0; k < indices.length; k++) s += w[indices[k]!]! * values[k]!;
  return s;
}

/** log(1 + e^z) without overflow */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** `labels` are targets in [0, 1]: 0/1 for labelled classes, or a probability (a soft label, e.g. a reference score). */
export function trainLogistic(rows: SparseVector[], labels: ArrayLike<number>, dim: number, opts: LogisticOptions): LogisticModel {
  const n = rows.length;
  const sw = opts.sampleWeights ?? new Float64Array(n).fill(1);
  let total = 0;
  for (let i = 0; i < n; i++) total += sw[i]!;
  const l2 = opts.l2;
  const maxIter = opts.maxIterations ?? 300;
  const tol = opts.tolerance ?? 1e-7;
  const m = opts.memory ?? 10;
  const P = dim + 1; // the bias is the last parameter

  /** objective and gradient at theta (gradient written into g) */
  const evaluate = (theta: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    const b = theta[dim]!;
    for (let i = 0; i < n; i++) {
      const x = rows[i]!;
      const z = dotSparse(theta, x) + b;
      const y = labels[i]!;
      loss += sw[i]! * (softplus(z) - y * z);
      const r = (sw[i]! * (sigmoid(z) - y)) / total;
      for (let k = 0; k < x.indices.length; k++) g[x.indices[k]!]! += r * x.values[k]!;
      g[dim]! += r;
    }
    let reg = 0;
    for (let j = 0; j < dim; j++) {
      reg += theta[j]! * theta[j]!;
      g[j]! += l2 * theta[j]!;
    }
    return loss / total + 0.5 * l2 * reg;
  };

  const theta = new Float64Array(P);
  const g = new Float64Array(P);
  let f = evaluate(theta, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(P);
  const next = new Float64Array(P);
  const gNext = new Float64Array(P);
  let iterations = 0;
  let converged = false;

  for (; iterations < maxIter; iterations++) {
    // two-loop recursion: d = -H·g
    for (let j = 0; j < P; j++) d[j] = -g[j]!;
    const alpha: number[] = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(S[k]!, d);
      const yk = Y[k]!;
      for (let j = 0; j < P; j++) d[j]! -= alpha[k]! * yk[j]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let j = 0; j < P; j++) d[j]! *= gamma;
    } else {
      const gn = Math.sqrt(dot(g, g));
      if (gn === 0) {
        converged = true;
        break;
      }
      for (let j = 0; j < P; j++) d[j]! /= gn;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k]! * dot(Y[k]!, d);
      const sk = S[k]!;
      for (let j = 0; j < P; j++) d[j]! += (alpha[k]! - beta) * sk[j]!;
    }
    // backtracking line search (Armijo)
    const slope = dot(g, d);
    if (slope >= 0) {
      // not a descent direction: forget the curvature pairs and take the gradient
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue;
    }
    let step = 1;
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < P; j++) next[j] = theta[j]! + step * d[j]!;
      fNext = evaluate(next, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext < f)) {
      converged = true;
      break;
    }
    const s = new Float64Array(P);
    const y = new Float64Array(P);
    for (let j = 0; j < P; j++) {
      s[j] = next[j]! - theta[j]!;
      y[j] = gNext[j]! - g[j]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const rel = (f - fNext) / Math.max(1, Math.abs(f));
    theta.set(next);
    g.set(gNext);
    f = fNext;
    if (rel < tol) {
      converged = true;
      iterations++;
      break;
    }
  }
  return { weights: Float32Array.from(theta.subarray(0, dim)), bias: theta[dim]!, iterations, converged, loss: f };
}
