import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from '../../src/core/probes/lbfgs';
import { accuracy, predictProbability, trainLogistic } from '../../src/core/probes/logistic';
import { seededRandom } from '../../src/core/probes/split';

/** Solves w·(1 + e^w) = 1/λ by bisection: the hand-derived optimum of the two-point problem below. */
function twoPointOptimum(lambda: number): number {
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (lambda * mid * (1 + Math.exp(mid)) > 1) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** Plain Newton's method on the same objective, for small d: a reference the L-BFGS fit must match. */
function newtonReference(X: number[][], y: number[], lambda: number): { w: number[]; b: number } {
  const n = X.length;
  const d = X[0]!.length;
  const t = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < 50; it++) {
    const g = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const z = [...X[i]!, 1];
      const m = z.reduce((a, v, j) => a + v * t[j]!, 0);
      const p = 1 / (1 + Math.exp(-m));
      for (let j = 0; j <= d; j++) {
        g[j] = g[j]! + ((p - y[i]!) * z[j]!) / n;
        for (let k = 0; k <= d; k++) H[j]![k] = H[j]![k]! + (p * (1 - p) * z[j]! * z[k]!) / n;
      }
    }
    for (let j = 0; j < d; j++) {
      g[j] = g[j]! + lambda * t[j]!;
      H[j]![j] = H[j]![j]! + lambda;
    }
    // solve H·step = g by Gaussian elimination
    const A = H.map((row, i) => [...row, g[i]!]);
    for (let c = 0; c <= d; c++) {
      for (let r = c + 1; r <= d; r++) {
        const f = A[r]![c]! / A[c]![c]!;
        for (let k = c; k <= d + 1; k++) A[r]![k] = A[r]![k]! - f * A[c]![k]!;
      }
    }
    const step = new Array<number>(d + 1).fill(0);
    for (let r = d; r >= 0; r--) {
      let s = A[r]![d + 1]!;
      for (let k = r + 1; k <= d; k++) s -= A[r]![k]! * step[k]!;
      step[r] = s / A[r]![r]!;
    }
    for (let j = 0; j <= d; j++) t[j] = t[j]! - step[j]!;
  }
  return { w: t.slice(0, d), b: t[d]! };
}

describe('L-BFGS', () => {
  it('minimises a convex quadratic to its known minimum', () => {
    // f = Σ c_i (x_i − a_i)², minimum at a
    const a = [1, -2, 3, 0.5];
    const c = [1, 10, 100, 0.1];
    const r = minimizeLbfgs((x, g) => {
      let f = 0;
      for (let i = 0; i < 4; i++) {
        f += c[i]! * (x[i]! - a[i]!) ** 2;
        g[i] = 2 * c[i]! * (x[i]! - a[i]!);
      }
      return f;
    }, new Float64Array(4), { gradientTolerance: 1e-10 });
    expect(r.stop).toBe('gradient');
    a.forEach((v, i) => expect(r.x[i]).toBeCloseTo(v, 8));
  });
});

describe('logistic regression', () => {
  it('golden: two points ±1 with λ = 1 give b = 0 and w solving w(1 + e^w) = 1', () => {
    // mean loss = log(1 + e^−w) by symmetry; stationarity: λw = σ(−w) ⇔ w(1 + e^w) = 1/λ; w ≈ 0.40106
    for (const scaling of ['none', 'scalar', 'per-feature'] as const) {
      const m = trainLogistic([[1], [-1]], [1, 0], { l2: 1, scaling, gradientTolerance: 1e-12 });
      expect(m.weights[0]).toBeCloseTo(twoPointOptimum(1), 8);
      expect(m.weights[0]).toBeCloseTo(0.40106, 4);
      expect(m.bias).toBeCloseTo(0, 10);
    }
  });

  it('golden: λ = 0.25 on the same points', () => {
    const m = trainLogistic([[1], [-1]], [1, 0], { l2: 0.25, scaling: 'none', gradientTolerance: 1e-12 });
    expect(m.weights[0]).toBeCloseTo(twoPointOptimum(0.25), 8);
  });

  it('matches Newton’s method on a small overlapping data set (unstandardised)', () => {
    const rand = seededRandom(7);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 60; i++) {
      const label = i % 2;
      X.push([rand() + label * 0.5, rand() * 2 - 1, rand() - label * 0.3]);
      y.push(label);
    }
    const ref = newtonReference(X, y, 0.05);
    const m = trainLogistic(X, y, { l2: 0.05, scaling: 'none', gradientTolerance: 1e-8 });
    expect(m.stop).toBe('gradient');
    ref.w.forEach((w, j) => expect(m.weights[j]).toBeCloseTo(w, 6));
    expect(m.bias).toBeCloseTo(ref.b, 6);
  });

  it('standardised fit equals Newton on standardised features, mapped back to raw space', () => {
    const rand = seededRandom(3);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 40; i++) {
      const label = i % 2;
      X.push([100 * rand() + 30 * label, 0.01 * rand() - 0.004 * label]);
      y.push(label);
    }
    const mean = [0, 1].map((j) => X.reduce((a, r) => a + r[j]!, 0) / X.length);
    const sd = [0, 1].map((j) => Math.sqrt(X.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / X.length));
    const Z = X.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
    const ref = newtonReference(Z, y, 0.1);
    const m = trainLogistic(X, y, { l2: 0.1, scaling: 'per-feature', gradientTolerance: 1e-10 });
    for (let i = 0; i < X.length; i++) {
      const pRef = 1 / (1 + Math.exp(-(ref.b + ref.w[0]! * Z[i]![0]! + ref.w[1]! * Z[i]![1]!)));
      expect(predictProbability(m, X[i]!)).toBeCloseTo(pRef, 6);
    }
  });

  it("'scalar' scaling keeps the raw-space fit: equal to an unscaled fit with λ·s²", () => {
    const rand = seededRandom(5);
    const X = Array.from({ length: 50 }, (_, i) => [10 * rand() + 4 * (i % 2), 3 * rand(), 20 * rand() - 5 * (i % 2)]);
    const y = X.map((_, i) => i % 2);
    const mean = [0, 1, 2].map((j) => X.reduce((a, r) => a + r[j]!, 0) / X.length);
    const s2 = [0, 1, 2].reduce((a, j) => a + X.reduce((b, r) => b + (r[j]! - mean[j]!) ** 2, 0) / X.length, 0) / 3;
    const scaled = trainLogistic(X, y, { l2: 0.02, scaling: 'scalar', gradientTolerance: 1e-11 });
    const raw = trainLogistic(X, y, { l2: 0.02 * s2, scaling: 'none', gradientTolerance: 1e-11 });
    for (let j = 0; j < 3; j++) expect(scaled.weights[j]).toBeCloseTo(raw.weights[j]!, 6);
    expect(scaled.bias).toBeCloseTo(raw.bias, 5);
  });

  it('sample weights act like repeated rows', () => {
    const X = [[0.2], [1.1], [-0.4], [0.9], [-1.3]];
    const y = [0, 1, 0, 0, 1];
    const weighted = trainLogistic(X, y, { l2: 0.1, scaling: 'none', sampleWeights: [1, 3, 1, 1, 2], gradientTolerance: 1e-11 });
    const repeated = trainLogistic([[0.2], [1.1], [1.1], [1.1], [-0.4], [0.9], [-1.3], [-1.3]], [0, 1, 1, 1, 0, 0, 1, 1], { l2: 0.1, scaling: 'none', gradientTolerance: 1e-11 });
    expect(weighted.weights[0]).toBeCloseTo(repeated.weights[0]!, 7);
    expect(weighted.bias).toBeCloseTo(repeated.bias, 7);
  });

  it('separates separable classes: held-out accuracy 1, direction along the class-mean difference', () => {
    const rand = seededRandom(11);
    const d = 20;
    const axis = Array.from({ length: d }, (_, j) => (j % 3 === 0 ? 1 : 0));
    const make = (label: number): number[] => axis.map((a) => (rand() - 0.5) * 0.5 + (label ? 2 : -2) * a);
    const train = Array.from({ length: 200 }, (_, i) => make(i % 2));
    const trainY = train.map((_, i) => i % 2);
    const test = Array.from({ length: 100 }, (_, i) => make(i % 2));
    const testY = test.map((_, i) => i % 2);
    const m = trainLogistic(train, trainY, { l2: 0.01 });
    expect(accuracy(m, test, testY)).toBe(1);
    const cos = m.weights.reduce((a, w, j) => a + w * axis[j]!, 0) / (Math.hypot(...m.weights) * Math.hypot(...axis));
    expect(cos).toBeGreaterThan(0.9);
  });

  it('a constant feature gets weight 0 instead of dividing by zero', () => {
    const m = trainLogistic([[5, 1], [5, -1], [5, 2], [5, -2]], [1, 0, 1, 0], { l2: 0.1, scaling: 'per-feature' });
    expect(m.weights[0]).toBe(0);
    expect(Number.isFinite(m.bias)).toBe(true);
  });
});
