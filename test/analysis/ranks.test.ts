import { describe, expect, it } from 'vitest';
import { approximateGoldRank, goldRankOf } from '../../src/core/analysis/goldRank';
import { cellRanks, correctnessFlips, rankSplit, rankTransitions, summarizeRanks } from '../../src/core/analysis/ranks';
import { indexRun } from '../../src/core/analysis/runIndex';
import type { RoundRecord } from '../../src/core/model/record';
import { mcqItem, rec } from './fixtures';
import { articleNoLabel, articleThenLabel, bbqGoldC, heOrSheThey, theIsNotThey, winoThey } from './real-answers';

const tl = (...alts: Array<[string, number]>) => alts.map(([token, logprob]) => ({ token, logprob }));

describe('approximate gold rank: read at the token that names the option', () => {
  const abc = mcqItem('q', 0);
  const ranked = (topLogprobs: ReturnType<typeof tl>[], response: string, item = abc, tokens?: string[]) => approximateGoldRank(topLogprobs, item, { response, tokens });
  it('the letter after "(" (split or merged token), ranked by the best alternative naming each option exactly', () => {
    // position 0 " (" names nothing; position 1 "b": b −0.5 (best of "b", "B"), a −1.2 → gold (a) ranks 2
    expect(ranked([tl([' (', -0.1], ['The', -2]), tl(['b', -0.5], ['a', -1.2], ['B', -0.7]), tl([')', 0])], ' (b)')).toEqual({ rank: 2, method: 'approximate', censored: false });
    expect(ranked([tl([' (a', -0.2], [' (b', -0.9]), tl([')', 0])], ' (a)')).toEqual({ rank: 1, method: 'approximate', censored: false });
  });
  it('a gold option outside the top k is censored at (listed options) + 1, the best rank it could have', () => {
    const gold2 = mcqItem('q2', 2); // (c) absent, a and b listed → rank 3
    expect(ranked([tl([' (', 0]), tl(['a', -0.1], ['b', -0.3])], ' (a', gold2)).toEqual({ rank: 3, method: 'approximate', censored: true });
    const gold1 = mcqItem('q3', 1); // (b) and (c) absent, only a listed → both tie at rank 2
    expect(ranked([tl([' (', 0]), tl(['a', -0.1])], ' (a', gold1)).toEqual({ rank: 2, method: 'approximate', censored: true });
  });
  it('best-rank ties; word labels match whole words with their case forms, never a prefix', () => {
    expect(ranked([tl([' (', 0]), tl(['a', -1], ['b', -1])], ' (b')!.rank).toBe(1);
    const w = mcqItem('w', 0, {}, ['they', 'he', 'she']);
    expect(ranked([tl([' she', -0.3], [' They', -1.0], [' he', -2.0])], ' she', w)).toEqual({ rank: 2, method: 'approximate', censored: false });
    // "th" and "t" are fragments, not the word "they": no position names an option
    expect(ranked([tl(['th', -0.1], ['t', -0.5])], 'th', w)).toBeNull();
    // "his" is he's case form (the answer reads he): they −1.4 below his −0.2 → rank 2
    expect(ranked([tl([' his', -0.2], [' their', -1.4])], ' his', w)!.rank).toBe(2);
  });
  it('null when the answer names no option; a lone article is not option (a)', () => {
    expect(ranked([tl(['The', -0.1])], 'The')).toBeNull();
    expect(ranked([], '')).toBeNull();
    expect(ranked([tl([' a', -0.1], [' (', -2])], ' a')).toBeNull();
    // "(apples" starts with "a" after "(" but is a word, not the label
    expect(ranked([tl([' (', 0]), tl(['a', -0.1]), tl(['pples', 0])], ' (apples')).toBeNull();
  });
  it('uses the recorded generated tokens when present, else the alternatives that spell the response', () => {
    // sampled answer: the chosen " (" at position 0 was not the likeliest alternative; the record says so
    const tops = [tl([' b', -0.2], [' (', -1.0]), tl(['a', -0.3], ['c', -0.9])];
    expect(ranked(tops, ' (a) x', abc, [' (', 'a'])).toEqual({ rank: 1, method: 'approximate', censored: false });
    expect(ranked(tops, ' (a) x')).toEqual({ rank: 1, method: 'approximate', censored: false });
  });
  it('goldRankOf: recorded rank first, recomputed from option scores (mean with token counts), else approximate', () => {
    const item = mcqItem('q', 1);
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { method: 'exact', logprobs: [-1, -2, -3], goldRank: 2 } }), item)).toEqual({ rank: 2, method: 'exact', censored: false });
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { method: 'exact', logprobs: [-1, -0.5, -3], goldRank: null } }), item)).toEqual({ rank: 1, method: 'exact', censored: false });
    // sums −1 (1 token) and −1.6 (4 tokens): by sum (b) ranks 2, by mean (−1 vs −0.4) it ranks 1
    const os = { method: 'exact' as const, logprobs: [-1, -1.6, -3], tokenCounts: [1, 4, 1], goldRank: null };
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { ...os, aggregate: 'sum' } }), item)!.rank).toBe(2);
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { ...os, aggregate: 'mean' } }), item)!.rank).toBe(1);
    expect(goldRankOf(rec('q', 'b', 0, { response: ' (a)', topLogprobs: [tl([' (', 0]), tl(['a', -0.2], ['c', -0.4], ['b', -0.9])] }), item)).toEqual({ rank: 3, method: 'approximate', censored: false });
    expect(goldRankOf(rec('q', 'b', 0, { error: { code: 'timeout', message: '' }, optionScores: { method: 'exact', logprobs: [], goldRank: 1 } }), item)).toBeNull();
    // label-logprob: (b) outside the top k (null) → censored at 2 + 1 = 3
    expect(goldRankOf(rec('q', 'b', 0, { optionScores: { method: 'label-logprob', logprobs: [-0.1, null, -2], goldRank: 3 } }), item)).toEqual({ rank: 3, method: 'label-logprob', censored: true });
  });
});

describe('approximate gold rank on answers copied from a real server', () => {
  it('"… is a (c) …": read at the letter, not at the article → rank 1 (the prefix rule gave 3)', () => {
    expect(goldRankOf(articleThenLabel, bbqGoldC)).toEqual({ rank: 1, method: 'approximate', censored: false });
  });
  it('"… is a great idea": names no option → unranked (the prefix rule gave 3)', () => {
    expect(goldRankOf(articleNoLabel, bbqGoldC)).toBeNull();
  });
  it('" the pronoun "he"": " the" is not "they" → rank 3 at "he" (the prefix rule gave 1)', () => {
    expect(goldRankOf(theIsNotThey, winoThey)).toEqual({ rank: 3, method: 'approximate', censored: false });
  });
  it('"he or she (they …)": read at the first option named, " he" → rank 2', () => {
    expect(goldRankOf(heOrSheThey, winoThey)).toEqual({ rank: 2, method: 'approximate', censored: false });
  });
  it('a cell mean counts ranked records only: one ranked, one unranked', () => {
    const ix2 = indexRun([articleThenLabel, { ...articleNoLabel, itemId: 'bbq-c2' }], [bbqGoldC, { ...bbqGoldC, id: 'bbq-c2' }]);
    expect(summarizeRanks(cellRanks(ix2, 'baseline', 0))).toEqual({ n: 1, mean: 1, censored: 0, censoredShare: 0, counts: [1], method: 'approximate' });
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
    expect(summarizeRanks(cellRanks(ix, 'self-correct', 0))).toEqual({ n: 4, mean: 1.75, censored: 0, censoredShare: 0, counts: [2, 1, 1], method: 'exact' });
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
