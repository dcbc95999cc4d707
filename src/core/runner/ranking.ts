import type { Item } from '../model/item';
import type { OptionScoreResult } from '../backends/backend';

export type OptionAggregate = 'mean' | 'sum';

/** The continuation scored for each option after the full round input: " (a)" by default, as the authors did. */
export function optionContinuations(item: Item, withText: boolean): string[] {
  const labels = item.choiceLabels ?? [];
  return labels.map((label, i) => (withText ? ` ${label} ${item.choices?.[i] ?? ''}`.trimEnd() : ` ${label}`));
}

/**
 * Rank of the gold option (1 = most likely). The authors rank by the mean per-token log-likelihood (exp(−loss)
 * normalised over options, which keeps the order); ties share the better rank.
 */
export function goldRank(scores: OptionScoreResult, gold: number | undefined, aggregate: OptionAggregate): number | null {
  if (gold === undefined || gold < 0 || gold >= scores.logprobs.length) return null;
  const value = (i: number) => {
    const total = scores.logprobs[i]!;
    const n = scores.tokenLogprobs[i]?.length ?? 1;
    return aggregate === 'mean' ? total / Math.max(1, n) : total;
  };
  const g = value(gold);
  if (!Number.isFinite(g)) return null;
  let better = 0;
  for (let i = 0; i < scores.logprobs.length; i++) if (i !== gold && value(i) > g) better++;
  return better + 1;
}
