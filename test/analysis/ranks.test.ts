import { describe, expect, it } from 'vitest';
import { approximateGoldRank, goldRankOf } from '../../src/core/analysis/goldRank';
import { cellRanks, correctnessFlips, rankSplit, rankTransitions, summarizeRanks } from '../../src/core/analysis/ranks';
import { indexRun } from '../../src/core/analysis/runIndex';
import type { RoundRecord } from '../../src/core/model/record';
import { mcqItem, rec } from './fixtures';

const tl = (...alts: Array<[string, number]>) => alts.map(([token, logprob]) => ({ token, logprob }));

describe('approximate gold rank from top-k log-probabilities', () => {
  const abc = mcqItem('q', 0);
  it('skips positions that name no option ("(" before the letter) and ranks by the best alternative', () => {
    // position 0: " (" and "The" name nothing; position 1: b −0.5 (best of "b" and "B"), a −1.2 → gold (a) ranks 2
    expect(approximateGoldRank([tl([' (', -0.1], ['The', -2]), tl(['b', -0.5], ['a', -1.2], ['B', -0.7])], abc)).toEqual({ rank: 2, method: 'approximate' });
    expect(approximateGoldRank([tl([' (a', -0.2], [' (b', -0.9])], abc)).toEqual({ rank: 1, method: 'approximate' });
  });
  it('options absent from the top k tie for last', () => {
    const gold2 = mcqItem('q2', 2); // (c) absent
    expect(approximateGoldRank([tl(['a', -0.1], ['b', -0.3])], gold2)).toEqual({ rank: 3, method: 'approximate' });
  });
  it('equal log-probabilities share the best rank; one-token word labels', () => {
    expect(approximateGoldRank([tl(['a', -1], ['b', -1])], abc)!.rank).toBe(1);
    const w = mcqItem('w', 0, {}, ['they', 'he', 'she']);
    expect(approximateGoldRank([tl([' she', -0.3], [' They', -1.0], [' he', -2.0])], w)).toEqual({ rank: 2, method: 'approximate' });
    // a one-letter fragment "t" names nothing; "th" is a prefix of "they" only
    expect(approximateGoldRank([tl(['t', -0.1])], w)).toBeNull();
    expect(approximateGoldRank([tl(['th', -0.1], [' he', -0.5])], w)!.rank).toBe(1);
  });
  it('null when nothing names an option', () => {
    expect(approximateGoldRank([tl(['The', -0.1])], abc)).toBeNull();
    expect(approximateGoldRank([], abc)).toBeNull();
  });
  it('goldRankOf: recorded rank first, recomputed from option scores, else approximate', () => {
    const item = mcqItem('q', 1);
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { method: 'exact', logprobs: [-1, -2, -3], goldRank: 2 } }), item)).toEqual({ rank: 2, method: 'exact' });
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { method: 'exact', logprobs: [-1, -0.5, -3], goldRank: null } }), item)).toEqual({ rank: 1, method: 'exact' });
    expect(goldRankOf(rec('q', 'b', 0, { topLogprobs: [tl(['a', -0.2], ['c', -0.4], ['b', -0.9])] }), item)).toEqual({ rank: 3, method: 'approximate' });
    expect(goldRankOf(rec('q', 'b', 0, { error: { code: 'timeout', message: '' }, optionScores: { method: 'exact', logprobs: [], goldRank: 1 } }), item)).toBeNull();
  });
});

// Four items, gold (a). self-correct ranks and correctness per round (hand-made):
//   i1: rank 1 ✓, 1 ✓, 1 ✓   → stayed correct
//   i2: rank 2 ✗, 1 ✓, 1 ✓   → wrong→correct
//   i3: rank 1 ✓, 2 ✗, 1 ✓   → wavering
//   i4: rank 3 ✗, 3 ✗, 2 ✗   → stayed wrong
// baseline ranks: i1 2, i2 1, i3 1, i4 1
const items = ['i1', 'i2', 'i3', 'i4'].map((id) => mcqItem(id, 0));
const plan: Record<string, Array<[number, boolean]>> = {
  i1: [[1, true], [1, true], [1, true]],
  i2: [[2, false], [1, true], [1, true]],
  i3: [[1, true], [2, false], [1, true]],
  i4: [[3, false], [3, false], [2, false]],
};
const baseRank: Record<string, number> = { i1: 2, i2: 1, i3: 1, i4: 1 };
const os = (rank: number) => ({ method: 'exact' as const, logprobs: [], goldRank: rank });
const records: RoundRecord[] = [
  ...Object.entries(baseRank).map(([id, r]) => rec(id, 'baseline', 0, { correct: r === 1, optionScores: os(r) })),
  ...Object.entries(plan).flatMap(([id, rounds]) => rounds.map(([r, ok], round) => rec(id, 'self-correct', round, { correct: ok, optionScores: os(r) }))),
];
const ix = indexRun(records, items);

describe('rank shifts', () => {
  it('distribution and mean per round', () => {
    // round 0 ranks 1, 2, 1, 3 → counts [2, 1, 1], mean 7/4
    expect(summarizeRanks(cellRanks(ix, 'self-correct', 0))).toEqual({ n: 4, mean: 1.75, counts: [2, 1, 1], method: 'exact' });
  });
  it('transition matrices between consecutive rounds', () => {
    const t = rankTransitions(ix);
    expect(t.map((x) => [x.condition, x.from, x.to])).toEqual([['self-correct', 0, 1], ['self-correct', 1, 2]]);
    // 0→1: i1 1→1, i2 2→1, i3 1→2, i4 3→3
    expect(t[0]!.matrix).toEqual([[1, 1, 0], [1, 0, 0], [0, 0, 1]]);
    // 1→2: i1 1→1, i2 1→1, i3 2→1, i4 3→2
    expect(t[1]!.matrix).toEqual([[2, 0, 0], [1, 0, 0], [0, 1, 0]]);
  });
  it('flips', () => {
    expect(correctnessFlips(ix)).toEqual([{ condition: 'self-correct', items: 4, stayedCorrect: 1, stayedWrong: 1, correctToWrong: 0, wrongToCorrect: 1, wavering: 1, incomplete: 0 }]);
  });
  it('accuracy over rounds split by the gold rank at round 0 and at the baseline', () => {
    const rows = rankSplit(ix, { seed: 3, resamples: 200 });
    const acc = (by: string, rank: number) => rows.find((r) => r.by === by && r.rank === rank)!.rounds.map((x) => x.accuracy);
    // by round 0: rank 1 = {i1, i3}: 1, 1/2, 1; rank 2 = {i2}: 0, 1, 1; rank 3 = {i4}: 0, 0, 0
    expect(acc('round0', 1)).toEqual([1, 0.5, 1]);
    expect(acc('round0', 2)).toEqual([0, 1, 1]);
    expect(acc('round0', 3)).toEqual([0, 0, 0]);
    // by baseline: rank 1 = {i2, i3, i4}: 1/3, 1/3, 2/3; rank 2 = {i1}: 1, 1, 1
    expect(acc('baseline', 1).map((x) => x! * 3)).toEqual([1, 1, 2].map((x) => expect.closeTo(x, 12)));
    expect(acc('baseline', 2)).toEqual([1, 1, 1]);
    // intervals: one item → zero width; {i1, i3} at round 1 (values 1, 0) spans inside [0, 1]
    const r1 = rows.find((r) => r.by === 'round0' && r.rank === 1)!.rounds[1]!.ci!;
    expect(r1.lo).toBeGreaterThanOrEqual(0);
    expect(r1.hi).toBeLessThanOrEqual(1);
    expect(r1.lo).toBeLessThan(0.5);
    expect(rows.find((r) => r.by === 'round0' && r.rank === 2)!.rounds[0]!.ci).toEqual({ estimate: 0, lo: 0, hi: 0, n: 1 });
    expect(rankSplit(ix, { seed: 3, resamples: 200 })).toEqual(rows);
  });
  it('incomplete chains are counted apart', () => {
    const cut = indexRun(records.filter((r) => !(r.itemId === 'i4' && r.round === 2)), items);
    expect(correctnessFlips(cut)[0]).toMatchObject({ items: 3, incomplete: 1 });
  });
});
