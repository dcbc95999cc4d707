// Agreement and ranking statistics for scorers: average ranks (ties share their mean rank), Spearman's ρ (Pearson
// on average ranks), and ROC AUC as the Mann–Whitney probability that a positive outranks a negative (ties ½).

import { averageRanks, pearson as pearsonOrNull, spearman as spearmanOrNull } from '../analysis/stats';

export { averageRanks };

/** Pearson's r; NaN when either side is constant or there are fewer than two pairs */
export function pearson(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`pearson: ${a.length} vs ${b.length} values`);
  return pearsonOrNull(a, b) ?? NaN;
}

/** Spearman's ρ (Pearson on average ranks); NaN where it is undefined */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`spearman: ${a.length} vs ${b.length} values`);
  return spearmanOrNull(a, b) ?? NaN;
}

/** ROC AUC of `scores` for binary `labels` (1 = positive); NaN when one class is missing */
export function rocAuc(scores: readonly number[], labels: ArrayLike<number>): number {
  const ranks = averageRanks(scores);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] === 1) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
