import { describe, expect, it } from 'vitest';
import { averageRanks, bootstrap, bootstrapMean, erfc, mcnemar, quantileSorted, seededRandom, spearman, spearmanTest, studentTTwoSided } from '../../src/core/analysis/stats';

describe('Spearman with average ranks', () => {
  it('ties share the mean rank', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([5, 5, 5])).toEqual([2, 2, 2]);
  });
  it('ρ with ties, by hand', () => {
    // x ranks [1, 2.5, 2.5, 4], y ranks [1, 3, 2, 4], both mean 2.5
    // dx = [-1.5, 0, 0, 1.5], dy = [-1.5, .5, -.5, 1.5]; Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5 → ρ = 4.5/√22.5 = √0.9
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(Math.sqrt(0.9), 12);
  });
  it('perfect, reversed, constant', () => {
    expect(spearman([1, 2, 3], [10, 200, 3000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});

describe("McNemar's test", () => {
  it('exact binomial for few discordant pairs', () => {
    // b=1, c=6: n=7, P(X ≤ 1) = (C(7,0)+C(7,1))/2^7 = 8/128; two-sided 2·8/128 = 0.125
    const r = mcnemar(1, 6);
    expect(r.method).toBe('exact');
    expect(r.p).toBeCloseTo(0.125, 12);
    // b=c=3: P(X ≤ 3) for n=6 = (1+6+15+20)/64 = 42/64; ×2 > 1 → 1
    expect(mcnemar(3, 3).p).toBe(1);
    // b=0, c=5: 2·(1/32) = 0.0625
    expect(mcnemar(0, 5).p).toBeCloseTo(0.0625, 12);
  });
  it('chi-square with continuity correction for many', () => {
    // b=10, c=25: (|10−25|−1)²/35 = 196/35 = 5.6; P(χ²₁ > 5.6) = erfc(√2.8) ≈ 0.017961
    const r = mcnemar(10, 25);
    expect(r.method).toBe('chi-square');
    expect(r.statistic).toBeCloseTo(5.6, 12);
    expect(r.p).toBeCloseTo(0.017961, 5);
    // χ² = 3.841459 ↔ p = 0.05
    expect(erfc(Math.sqrt(3.841459 / 2))).toBeCloseTo(0.05, 6);
  });
  it('no discordant pairs: p = 1', () => {
    expect(mcnemar(0, 0)).toEqual({ b: 0, c: 0, method: 'none', p: 1 });
  });
  it('p never exceeds 1: |b − c| = 1 gives χ² = 0, where the erfc approximation reads slightly above 1', () => {
    expect(erfc(0)).toBeGreaterThan(1);
    expect(mcnemar(12, 13)).toMatchObject({ method: 'chi-square', statistic: 0, p: 1 });
  });
});

describe("Spearman's ρ with a p-value and a bootstrap interval", () => {
  it('exact permutation p for n ≤ 10, by hand', () => {
    // n = 4, identical orders: ρ = 1; |ρ| = 1 for 2 of the 4! = 24 orders → p = 2/24
    expect(spearmanTest([1, 2, 3, 4], [1, 2, 3, 4])).toMatchObject({ rho: 1, n: 4, method: 'exact' });
    expect(spearmanTest([1, 2, 3, 4], [1, 2, 3, 4]).p).toBeCloseTo(2 / 24, 12);
    // n = 5, y = 2 1 4 3 5: Σd² = 4, ρ = 1 − 6·4/(5·24) = 0.8; Σd² ≤ 4 for 1 + 4 + 3 = 8 orders, and by symmetry 8
    // have ρ ≤ −0.8 → p = 16/120
    const r = spearmanTest([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]);
    expect(r.rho).toBeCloseTo(0.8, 12);
    expect(r.p).toBeCloseTo(16 / 120, 12);
  });
  it('t approximation above 10 pairs (values as scipy.stats.spearmanr gives them)', () => {
    // Σd² = 22, ρ = 1 − 6·22/(12·143) = 12/13; t = ρ·√(10/(1 − ρ²)); scipy: p = 1.8621951098680993e-05
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const r = spearmanTest(x, [2, 1, 4, 3, 6, 5, 8, 7, 12, 9, 11, 10]);
    expect(r.method).toBe('t');
    expect(r.rho).toBeCloseTo(12 / 13, 12);
    expect(r.p! / 1.8621951098680993e-5).toBeCloseTo(1, 8);
    // scipy: ρ = 0.6083916083916086, p = 0.03580599705202923
    const r2 = spearmanTest(x, [5, 1, 4, 3, 6, 12, 8, 7, 2, 9, 11, 10]);
    expect(r2.p).toBeCloseTo(0.03580599705202923, 8);
    // the t tail itself: t = 2.3094 with 3 df, two-sided (scipy: 0.10408803866182778)
    expect(studentTTwoSided(0.8 * Math.sqrt(3 / 0.36), 3)).toBeCloseTo(0.10408803866182778, 8);
  });
  it('a bootstrap interval over the pairs that contains ρ; none below 3 pairs or for constant data', () => {
    const r = spearmanTest([1, 2, 3, 4, 5, 6], [1, 3, 2, 5, 4, 6], { seed: 2, resamples: 300 });
    expect(r.ci!.lo).toBeLessThanOrEqual(r.rho!);
    expect(r.ci!.hi).toBeGreaterThanOrEqual(r.rho!);
    expect(r.ci!.hi).toBeLessThanOrEqual(1);
    expect(spearmanTest([1, 2], [2, 1]).ci).toBeNull();
    expect(spearmanTest([1, 1, 1], [1, 2, 3])).toMatchObject({ rho: null, p: null, method: 'none' });
  });
});

describe('bootstrap', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const values = [0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1];
    const a = bootstrapMean(values, { seed: 7, resamples: 500 });
    const b = bootstrapMean(values, { seed: 7, resamples: 500 });
    const c = bootstrapMean(values, { seed: 8, resamples: 500 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a!.estimate).toBeCloseTo(7 / 12, 12);
    expect(a!.lo).toBeLessThan(a!.estimate);
    expect(a!.hi).toBeGreaterThan(a!.estimate);
    expect(a!.lo).toBeGreaterThanOrEqual(0);
    expect(a!.hi).toBeLessThanOrEqual(1);
  });
  it('constant data gives a zero-width interval; no data gives null', () => {
    expect(bootstrapMean([0.3, 0.3, 0.3])).toEqual({ estimate: 0.3, lo: 0.3, hi: 0.3, n: 3 });
    expect(bootstrapMean([])).toBeNull();
    expect(bootstrap(3, () => null)).toBeNull();
  });
  it('seeded generator in [0, 1) and type-7 quantiles', () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 1000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    // [1,2,3,4]: h = 3·0.25 = 0.75 → 1 + 0.75·1 = 1.75
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
  });
});
