import { describe, expect, it } from 'vitest';
import { bandScore, bandSeries, layerRoundMatrix, probeCell, resolveBand, resolveBands } from '../../src/core/analysis/probes';
import { indexRun } from '../../src/core/analysis/runIndex';
import { ExperimentSchema } from '../../src/core/model/experiment';
import { mcqItem, probe, rec } from './fixtures';

describe('probe bands', () => {
  it('default: the middle-to-late third of the layers', () => {
    // 32 layers 0–31: L[16] … L[⌊160/6⌋ = 26]
    expect(resolveBand('p', Array.from({ length: 32 }, (_, i) => i))).toEqual({ lo: 16, hi: 26, source: 'default', moralDirection: 'lower' });
    // 6 layers: L[3] … L[5]
    expect(resolveBand('p', [0, 1, 2, 3, 4, 5])).toEqual({ lo: 3, hi: 5, source: 'default', moralDirection: 'lower' });
  });
  it('the option beats the experiment, which beats the default', () => {
    const exp = ExperimentSchema.parse({
      dataset: { path: 'x' },
      task: 'mcq',
      conditions: [{ name: 'baseline', kind: 'baseline', turns: [{ user: 'q' }], rounds: 1 }],
      probes: [{ name: 'p', path: 'p.probe.json', band: [1, 2] }],
    });
    expect(resolveBand('p', [0, 1, 2, 3], exp)).toEqual({ lo: 1, hi: 2, source: 'experiment', moralDirection: 'lower' });
    expect(resolveBand('p', [0, 1, 2, 3], exp, { bands: { p: [0, 0] } })).toEqual({ lo: 0, hi: 0, source: 'option', moralDirection: 'lower' });
  });
  it("the probe file's own band (recorded with its scores) beats the middle-third default; its sign convention travels along", () => {
    const own = { band: [1, 1] as [number, number], moralDirection: 'higher' as const };
    expect(resolveBand('p', [0, 1, 2, 3, 4, 5], undefined, {}, own)).toEqual({ lo: 1, hi: 1, source: 'probe', moralDirection: 'higher' });
    const recs = [rec('a', 'baseline', 0, { probes: { p: { ...probe([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), ...own } } })];
    const ix = indexRun(recs, [mcqItem('a', 0)]);
    expect(resolveBands(ix, ['p']).get('p')).toEqual({ lo: 1, hi: 1, source: 'probe', moralDirection: 'higher' });
  });
  it('band score: mean over the band, nulls skipped', () => {
    // layers 3, 4, 5 → (0.04 + null + 0.06)/2 = 0.05
    expect(bandScore(probe([0.01, 0.02, 0.03, 0.04, null, 0.06]), { lo: 3, hi: 5, source: 'option', moralDirection: 'lower' })).toBeCloseTo(0.05, 12);
    expect(bandScore(probe([0.01, null]), { lo: 1, hi: 1, source: 'option', moralDirection: 'lower' })).toBeNull();
    expect(bandScore(probe([0.1, 0.2], undefined, [0.6, 0.8]), { lo: 0, hi: 1, source: 'option', moralDirection: 'lower' }, 'probability')).toBeCloseTo(0.7, 12);
  });
});

describe('probe aggregates', () => {
  const items = ['a', 'b'].map((id) => mcqItem(id, 0));
  // layers 0–3; band (default for 4 layers) = L[2] … L[⌊20/6⌋ = 3] = 2–3
  const records = [
    rec('a', 'baseline', 0, { probes: { tox: probe([0.1, 0.2, 0.3, 0.4]) } }),
    rec('b', 'baseline', 0, { probes: { tox: probe([0.3, null, 0.5, 0.6]) } }),
    rec('a', 'self-correct', 0, { probes: { tox: probe([0.0, 0.0, 0.2, 0.2]) } }),
    rec('b', 'self-correct', 0, { probes: { tox: probe([0.0, 0.0, 0.4, 0.4]) } }),
    rec('a', 'self-correct', 1, { probes: { tox: probe([0.0, 0.0, 0.1, 0.1], undefined, [0.5, 0.5, 0.5, 0.5]) } }),
    rec('b', 'self-correct', 1, { error: { code: 'timeout', message: '' }, probes: { tox: probe([9, 9, 9, 9]) } }),
  ];
  const ix = indexRun(records, items);
  const bands = resolveBands(ix, ['tox']);

  it('per-layer means per round and the band mean', () => {
    expect(bands.get('tox')).toEqual({ lo: 2, hi: 3, source: 'default', moralDirection: 'lower' });
    const c = probeCell(records.slice(0, 2), bands)!.tox!;
    // per layer: (0.1+0.3)/2, 0.2 (b is null), (0.3+0.5)/2, (0.4+0.6)/2
    expect(c.cosine.map((v) => +v!.toFixed(12))).toEqual([0.2, 0.2, 0.4, 0.5]);
    // band per record: a (0.3+0.4)/2 = 0.35, b (0.5+0.6)/2 = 0.55 → mean 0.45
    expect(c.band.mean).toBeCloseTo(0.45, 12);
    expect(c.probability).toBeUndefined();
    expect(probeCell(records.slice(4), bands)!.tox!.probability).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
  it('layer × round matrix (errors left out)', () => {
    const m = layerRoundMatrix(ix, 'tox', 'self-correct')!;
    expect(m.layers).toEqual([0, 1, 2, 3]);
    expect(m.rounds).toEqual([0, 1]);
    // layer 2: round 0 (0.2+0.4)/2 = 0.3; round 1 only a: 0.1
    expect(m.values[2]![0]).toBeCloseTo(0.3, 12);
    expect(m.values[2]![1]).toBeCloseTo(0.1, 12);
  });
  it('band means against rounds with the baseline as reference', () => {
    const [s] = bandSeries(ix, bands);
    expect(s!.baseline).toBeCloseTo(0.45, 12);
    const sc = s!.conditions.find((c) => c.condition === 'self-correct')!;
    // round 0: a 0.2, b 0.4 → 0.3; round 1: a 0.1
    expect(sc.points.map((p) => [p.round, +p.mean!.toFixed(12), p.n])).toEqual([[0, 0.3, 2], [1, 0.1, 1]]);
  });
});
