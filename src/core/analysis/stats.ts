// Browser-safe statistics: seeded resampling, rank correlation and McNemar's test. No dependencies, deterministic.

import { seededRandom } from '../util/random';

export { seededRandom };

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Linear-interpolated quantile (type 7, as R's default) of an already sorted array. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 1) return sorted[0]!;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface BootstrapOptions {
  /** resamples; default 1000 */
  resamples?: number;
  /** default 1 */
  seed?: number;
  /** default 0.95 */
  level?: number;
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * Percentile bootstrap over units (items): `statistic` gets the resampled unit indices and returns a number, or null
 * when the resample has nothing to measure (such resamples are dropped). Returns null when there are no units or the
 * full-sample statistic is null.
 */
export function bootstrap(n: number, statistic: (indices: readonly number[]) => number | null, opts: BootstrapOptions = {}): Interval | null {
  if (n === 0) return null;
  const all = Array.from({ length: n }, (_, i) => i);
  const estimate = statistic(all);
  if (estimate === null) return null;
  const rand = seededRandom(opts.seed ?? 1);
  const b = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const stats: number[] = [];
  const idx = new Array<number>(n);
  for (let k = 0; k < b; k++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const s = statistic(idx);
    if (s !== null) stats.push(s);
  }
  if (stats.length === 0) return { estimate, lo: estimate, hi: estimate, n };
  stats.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return { estimate, lo: quantileSorted(stats, alpha), hi: quantileSorted(stats, 1 - alpha), n };
}

/**
 * Bootstrap interval of the mean of per-unit values (e.g. 0/1 correctness, or paired per-item differences). The same
 * draws as `bootstrap` with a mean statistic, without building index arrays: this runs for every cell of a report.
 */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions = {}): Interval | null {
  const n = values.length;
  if (n === 0) return null;
  let total = 0;
  for (const v of values) total += v;
  const estimate = total / n;
  const rand = seededRandom(opts.seed ?? 1);
  const b = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const stats = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)]!;
    stats[k] = s / n;
  }
  stats.sort();
  const alpha = (1 - level) / 2;
  const sorted = Array.from(stats);
  return { estimate, lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha), n };
}

/**
 * Bootstrap interval of mean(a) − mean(b) for two independent samples (e.g. stories generated under two steering
 * strengths): each resample draws a and b with replacement, separately. n is the smaller sample's size.
 */
export function bootstrapMeanDifference(a: readonly number[], b: readonly number[], opts: BootstrapOptions = {}): Interval | null {
  if (a.length === 0 || b.length === 0) return null;
  const meanOf = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const estimate = meanOf(a) - meanOf(b);
  const rand = seededRandom(opts.seed ?? 1);
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const draw = (xs: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rand() * xs.length)]!;
    return s / xs.length;
  };
  const stats: number[] = [];
  for (let k = 0; k < resamples; k++) stats.push(draw(a) - draw(b));
  stats.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(stats, tail), hi: quantileSorted(stats, 1 - tail), n: Math.min(a.length, b.length) };
}

/** Average ranks (1-based), ties get the mean of the ranks they span. */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r;
    i = j + 1;
  }
  return ranks;
}

export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 2 || y.length !== n) return null;
  const mx = mean(x)!;
  const my = mean(y)!;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ as the Pearson correlation of average ranks (correct with ties); null below 2 pairs or constant data. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error('spearman: the two samples differ in length');
  return pearson(averageRanks(x), averageRanks(y));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error < 1e-13). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with df degrees of freedom: P(|T| ≥ |t|). */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, incompleteBeta(df / (df + t * t), df / 2, 0.5));
}

/** Upper-tail P(T ≥ t) of Student's t with df degrees of freedom. */
export function studentTUpper(t: number, df: number): number {
  const two = studentTTwoSided(t, df) / 2;
  return t >= 0 ? two : 1 - two;
}

/** The q-quantile of Student's t with df degrees of freedom (bisection on the upper tail; |error| < 1e-10). */
export function studentTQuantile(q: number, df: number): number {
  if (q <= 0 || q >= 1) throw new RangeError(`studentTQuantile: q must be in (0, 1), got ${q}`);
  if (q < 0.5) return -studentTQuantile(1 - q, df);
  let lo = 0;
  let hi = 1;
  while (studentTUpper(hi, df) > 1 - q) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTUpper(mid, df) > 1 - q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface SpearmanTest {
  rho: number | null;
  n: number;
  /** two-sided p-value of ρ = 0; null when ρ is */
  p: number | null;
  /** exact: every permutation of one sample's ranks (n ≤ 10, ties kept); t: ρ·√((n−2)/(1−ρ²)) with n − 2 df */
  method: 'exact' | 't' | 'none';
  /** percentile bootstrap over the pairs (resamples with constant data dropped); null below 3 pairs */
  ci: Interval | null;
}

/** Every permutation of `xs` (Heap's algorithm), visited in place. */
function forEachPermutation(xs: number[], visit: (p: readonly number[]) => void): void {
  const c = new Array<number>(xs.length).fill(0);
  visit(xs);
  for (let i = 1; i < xs.length; ) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [xs[j], xs[i]] = [xs[i]!, xs[j]!];
      visit(xs);
      c[i]!++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/**
 * Spearman's ρ with a two-sided p-value (exact permutation distribution for n ≤ `exactUpTo`, default 10; else the
 * t approximation) and a bootstrap interval over the pairs.
 */
export function spearmanTest(x: readonly number[], y: readonly number[], opts: BootstrapOptions & { exactUpTo?: number } = {}): SpearmanTest {
  const n = x.length;
  const rho = spearman(x, y);
  const ci = n >= 3 ? bootstrap(n, (idx) => spearman(idx.map((i) => x[i]!), idx.map((i) => y[i]!)), opts) : null;
  if (rho === null) return { rho, n, p: null, method: 'none', ci };
  if (n <= (opts.exactUpTo ?? 10)) {
    // a permutation keeps both rank samples' spread, so |ρ| is proportional to |Σ (rx − mean)·ry|
    const rx = averageRanks(x);
    const mx = mean(rx)!;
    const cx = rx.map((v) => v - mx);
    const dot = (p: readonly number[]) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += cx[i]! * p[i]!;
      return Math.abs(s);
    };
    const ry = averageRanks(y);
    const observed = dot(ry);
    let extreme = 0;
    let total = 0;
    forEachPermutation([...ry], (p) => {
      total++;
      if (dot(p) >= observed - 1e-9) extreme++;
    });
    return { rho, n, p: extreme / total, method: 'exact', ci };
  }
  const t = Math.abs(rho) >= 1 ? Infinity : rho * Math.sqrt((n - 2) / (1 - rho * rho));
  return { rho, n, p: studentTTwoSided(t, n - 2), method: 't', ci };
}

/** log of n choose k */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Complementary error function (Numerical Recipes' erfcc, |relative error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface McNemarResult {
  /** discordant pairs: b = first right, second wrong; c = first wrong, second right */
  b: number;
  c: number;
  method: 'exact' | 'chi-square' | 'none';
  /** chi-square statistic (with continuity correction), for the chi-square method */
  statistic?: number;
  /** two-sided p-value; 1 when there are no discordant pairs */
  p: number;
}

/**
 * McNemar's test on paired correctness. Exact two-sided binomial test (p = min(1, 2·P[X ≤ min(b,c)]), X ~ Bin(b+c, ½))
 * when b + c < `exactBelow` (default 25), else the chi-square test with continuity correction, (|b−c|−1)²/(b+c), df 1.
 */
export function mcnemar(b: number, c: number, exactBelow = 25): McNemarResult {
  const n = b + c;
  if (n === 0) return { b, c, method: 'none', p: 1 };
  if (n < exactBelow) {
    const k = Math.min(b, c);
    let tail = 0;
    for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
    return { b, c, method: 'exact', p: Math.min(1, 2 * tail) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  // P(χ²₁ > s) = erfc(√(s/2)); clamped: at s = 0 the approximation of erfc can exceed 1 by ~1e-7
  return { b, c, method: 'chi-square', statistic, p: Math.min(1, erfc(Math.sqrt(statistic / 2))) };
}
