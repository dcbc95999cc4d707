// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithm 7.4 with the two-loop recursion 7.5)
// with a backtracking Armijo line search. Meant for smooth convex objectives such as L2-regularised logistic loss,
// where every accepted step keeps the curvature condition sᵀy > 0; a pair that breaks it is skipped, and a
// non-descent direction resets the memory to steepest descent.

export interface LbfgsOptions {
  /** pairs kept; 10 is the usual choice */
  memory?: number;
  maxIterations?: number;
  /** stop when max |gradient component| falls below this */
  gradientTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** 'gradient': converged; 'stagnation': no step along the search direction lowers f any more; 'max-iterations' */
  stop: 'gradient' | 'stagnation' | 'max-iterations';
  gradientInf: number;
}

/** `fg(x, g)` returns f(x) and writes ∇f(x) into g. */
export type ObjectiveWithGradient = (x: Float64Array, g: Float64Array) => number;

const dotv = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const infNorm = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

export function minimizeLbfgs(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10;
  const maxIter = opts.maxIterations ?? 1000;
  const tol = opts.gradientTolerance ?? 1e-6;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const p = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);

  for (let iter = 0; iter < maxIter; iter++) {
    const gInf = infNorm(g);
    if (gInf < tol) return { x, f, iterations: iter, stop: 'gradient', gradientInf: gInf };

    // p = −H·g by the two-loop recursion
    for (let i = 0; i < n; i++) p[i] = -g[i]!;
    for (let k = S.length - 1; k >= 0; k--) {
      const a = rho[k]! * dotv(S[k]!, p);
      alpha[k] = a;
      const y = Y[k]!;
      for (let i = 0; i < n; i++) p[i] = p[i]! - a * y[i]!;
    }
    let gamma: number;
    if (S.length > 0) gamma = dotv(S[S.length - 1]!, Y[Y.length - 1]!) / dotv(Y[Y.length - 1]!, Y[Y.length - 1]!);
    else gamma = 1 / Math.max(1, Math.sqrt(dotv(g, g))); // first step: at most unit length
    for (let i = 0; i < n; i++) p[i] = p[i]! * gamma;
    for (let k = 0; k < S.length; k++) {
      const b = rho[k]! * dotv(Y[k]!, p);
      const s = S[k]!;
      const c = alpha[k]! - b;
      for (let i = 0; i < n; i++) p[i] = p[i]! + c * s[i]!;
    }
    let slope = dotv(g, p);
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): forget the curvature pairs, take steepest descent
      S.length = Y.length = rho.length = 0;
      const gn = Math.max(1, Math.sqrt(dotv(g, g)));
      for (let i = 0; i < n; i++) p[i] = -g[i]! / gn;
      slope = dotv(g, p);
    }

    // backtracking Armijo line search from the full quasi-Newton step
    let t = 1;
    let fNew = Infinity;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + t * p[i]!;
      fNew = fg(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    // no decrease even for a tiny step: at the optimum to machine precision (or stuck); stop honestly
    if (!(fNew < f)) return { x, f, iterations: iter, stop: 'stagnation', gradientInf: gInf };

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dotv(s, y);
    if (sy > 1e-12 * Math.sqrt(dotv(s, s) * dotv(y, y))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = fNew;
  }
  const gInf = infNorm(g);
  return { x, f, iterations: maxIter, stop: gInf < tol ? 'gradient' : 'max-iterations', gradientInf: gInf };
}
