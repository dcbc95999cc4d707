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
  // P(χ²₁ > s) = erfc(√(s/2))
  return { b, c, method: 'chi-square', statistic, p: erfc(Math.sqrt(statistic / 2)) };
}
