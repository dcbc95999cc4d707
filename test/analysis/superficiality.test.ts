import { describe, expect, it } from 'vitest';
import { resolveBands } from '../../src/core/analysis/probes';
import { indexRun } from '../../src/core/analysis/runIndex';
import { generationChange, superficialityTest } from '../../src/core/analysis/superficiality';
import { instructionTable } from '../../src/core/analysis/instructions';
import type { RoundRecord } from '../../src/core/model/record';
import { genItem, mcqItem, probe, rec, tox } from './fixtures';

const ids = ['a', 'b', 'c', 'd'];
const items = ids.map((id) => mcqItem(id, 0));
const flat = (x: number) => probe([x, x, x, x]);

/** baseline all wrong; self-correct round 0 all right, with the given band scores per item */
function run(baseProbe: number[] | null, scProbe: number[] | null, scCorrect = [true, true, true, true]): RoundRecord[] {
  return [
    ...ids.map((id, i) => rec(id, 'baseline', 0, { correct: false, ...(baseProbe ? { probes: { bias: flat(baseProbe[i]!) } } : {}) })),
    ...ids.map((id, i) => rec(id, 'self-correct', 0, { correct: scCorrect[i]!, ...(scProbe ? { probes: { bias: flat(scProbe[i]!) } } : {}) })),
  ];
}

function verdict(records: RoundRecord[]) {
  const ix = indexRun(records, items);
  const rows = superficialityTest(ix, resolveBands(ix, ['bias']), { seed: 5, resamples: 400 });
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('superficiality test', () => {
  it('output improved, internals unchanged → superficial', () => {
    // output deltas all +1 → interval [1, 1]; probe deltas +0.01, −0.01, +0.01, −0.01 → mean 0, interval straddles 0
    const r = verdict(run([0.02, 0.02, 0.02, 0.02], [0.03, 0.01, 0.03, 0.01]));
    expect(r.output).toEqual({ estimate: 1, lo: 1, hi: 1, n: 4 });
    expect(r.outputChange).toBe('improved');
    expect(r.probes.bias!.delta!.estimate).toBeCloseTo(0, 12);
    expect(r.probes.bias!.changed).toBe(false);
    expect(r.case).toBe('superficial');
    expect(r.verdict).toMatch(/^output improved, internals unchanged within the 95% interval/);
    expect(r.restsOn).toMatch(/4 items paired with baseline/);
  });
  it('both changed', () => {
    // probe deltas all −0.02 → interval [−0.02, −0.02] excludes 0
    const r = verdict(run([0.05, 0.05, 0.05, 0.05], [0.03, 0.03, 0.03, 0.03]));
    expect(r.case).toBe('both-changed');
    expect(r.probes.bias!.delta!.estimate).toBeCloseTo(-0.02, 12);
    expect(r.verdict).toMatch(/^both changed: output improved and internals changed/);
  });
  it('no probe data: rests on output only', () => {
    const r = verdict(run(null, null));
    expect(r.case).toBe('output-only');
    expect(r.verdict).toBe('output improved; no probe data: verdict rests on output only');
  });
  it('output unchanged', () => {
    // deltas +1, 0, 0, 0 → mean 0.25, but resamples without item a give 0: the interval reaches 0
    const r = verdict(run(null, null, [true, false, false, false]));
    expect(r.output!.estimate).toBe(0.25);
    expect(r.output!.lo).toBe(0);
    expect(r.case).toBe('output-unchanged');
    expect(r.verdict).toMatch(/^output unchanged within the 95% interval; no probe data/);
  });

  it('generation: toxicity down is the improvement; kept-and-appended share and edit distance', () => {
    const g = ['x', 'y'].map(genItem);
    const records = [
      rec('x', 'baseline', 0, { response: 'You are bad', scores: tox(0.8) }),
      rec('y', 'baseline', 0, { response: 'bad word', scores: tox(0.7) }),
      rec('x', 'self-correct', 0, { response: 'You are bad', scores: tox(0.5) }),
      rec('y', 'self-correct', 0, { response: 'bad word', scores: tox(0.4) }),
      rec('x', 'self-correct', 1, { response: 'You are bad. Sorry, be kind.', scores: tox(0.3) }),
      rec('y', 'self-correct', 1, { response: 'bad ward', scores: tox(0.2) }),
    ];
    const ix = indexRun(records, g);
    expect(ix.task).toBe('generation');
    const rows = superficialityTest(ix, new Map(), { seed: 1, resamples: 200 });
    // round 0: deltas −0.3, −0.3 → improved; round 1: −0.5, −0.5
    expect(rows.map((r) => [r.round, +r.output!.estimate.toFixed(12), r.outputChange])).toEqual([[0, -0.3, 'improved'], [1, -0.5, 'improved']]);
    expect(rows[0]!.generation).toBeUndefined();
    // x keeps "You are bad" and appends 17 characters ". Sorry, be kind." → distance 17/28;
    // y changes one letter of 8 → 1/8; kept-and-appended 1 of 2
    const gc = rows[1]!.generation!;
    expect(gc).toMatchObject({ pairs: 2, keptAndAppended: 1, share: 0.5 });
    expect(gc.meanEditDistance).toBeCloseTo((17 / 28 + 1 / 8) / 2, 12);
    expect(generationChange(new Map(), new Map())).toEqual({ pairs: 0, keptAndAppended: 0, share: null, meanEditDistance: null });
  });
});

describe('instruction comparison', () => {
  it('effectiveness against the induced probe level, Spearman with ties', () => {
    // accuracy over 4 items: baseline 1/4; variants v1 2/4, v2 3/4, v3 3/4, v4 1/4; self-correct 4/4
    // effectiveness = change: 0.25, 0.5, 0.5, 0, 0.75; probe levels 0.01, 0.03, 0.02, 0.00, 0.04
    // ranks eff [2, 3.5, 3.5, 1, 5], probe [2, 4, 3, 1, 5]; deviations from 3: [−1, .5, .5, −2, 2], [−1, 1, 0, −2, 2]
    // Σxy = 1 + .5 + 0 + 4 + 4 = 9.5, Σx² = 9.5, Σy² = 10 → ρ = 9.5/√95 = √0.95
    const spec: Array<[string, string, number, number | null]> = [
      ['baseline', 'baseline', 1, null],
      ['variant-1', 'variant', 2, 0.01],
      ['variant-2', 'variant', 3, 0.03],
      ['variant-3', 'variant', 3, 0.02],
      ['variant-4', 'variant', 1, 0.0],
      ['self-correct', 'self-correct', 4, 0.04],
    ];
    const records = spec.flatMap(([name, , right, level]) => ids.map((id, i) => rec(id, name, 0, { correct: i < right, ...(level !== null ? { probes: { bias: flat(level) } } : {}) })));
    const ix = indexRun(records, items);
    const t = instructionTable(ix, resolveBands(ix, ['bias']))!;
    expect(t.reference).toBe('baseline');
    expect(t.baselineOutput).toBe(0.25);
    expect(t.rows.map((r) => r.condition)).toEqual(['variant-1', 'variant-2', 'variant-3', 'variant-4', 'self-correct']);
    expect(t.rows.map((r) => r.effectiveness)).toEqual([0.25, 0.5, 0.5, 0, 0.75]);
    expect(t.spearman.bias!.n).toBe(5);
    expect(t.spearman.bias!.rho).toBeCloseTo(Math.sqrt(0.95), 12);
    // exact p: Σ(x − 3)·y over the 120 orders of y is at most 9.5, reached by the sorted pairing and its swap of
    // the two tied 3.5s (2 orders); −9.5 likewise → p = 4/120
    expect(t.spearman.bias!.method).toBe('exact');
    expect(t.spearman.bias!.p).toBeCloseTo(4 / 120, 12);
    expect(t.spearman.bias!.ci).not.toBeNull();
  });
  it('null without variants', () => {
    const ix = indexRun([rec('a', 'baseline', 0, { correct: true }), rec('a', 'self-correct', 0, { correct: true })], items);
    expect(instructionTable(ix, new Map())).toBeNull();
  });
});
