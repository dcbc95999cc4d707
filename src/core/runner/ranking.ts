import type { Backend, OptionScoreResult, TopAlternative } from '../backends/backend';
import { labelLogprobs, rankFromScores, rankFromTopK, type RankMethod } from '../analysis/goldRank';
import { SclabError } from '../model/errors';
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { BackendDescription } from '../model/manifest';
import type { RoundRecord } from '../model/record';
import { isLetteredLabel } from '../protocol/templates';

export type OptionAggregate = 'mean' | 'sum';

/** The continuation scored for each option after the full round input: " (a)" by default, as the authors did. */
export function optionContinuations(item: Item, withText: boolean): string[] {
  const labels = item.choiceLabels ?? [];
  return labels.map((label, i) => (withText ? ` ${label} ${item.choices?.[i] ?? ''}`.trimEnd() : ` ${label}`));
}

/**
 * The rank method of a run: the experiment's choice, or under `auto` the best the backend offers (exact, then
 * label-logprob, then approximate). A named method the backend cannot give is a config error before the run starts.
 */
export function resolveRankMethod(exp: Experiment, description: BackendDescription, backend: Backend): RankMethod {
  const can: Record<RankMethod, boolean> = {
    exact: description.capabilities.optionLogprobs && backend.scoreOptions !== undefined,
    'label-logprob': description.capabilities.labelLogprobs === true && backend.labelLogprobs !== undefined,
    approximate: description.capabilities.topLogprobs && exp.decoding.topLogprobs > 0,
  };
  const wanted = exp.ranking.method;
  // auto falls back to approximate even without top-k: such records simply stay unranked
  if (wanted === 'auto') return can.exact ? 'exact' : can['label-logprob'] ? 'label-logprob' : 'approximate';
  if (!can[wanted]) {
    const why =
      wanted === 'exact'
        ? 'it gives no exact option log-likelihoods (completions with echo)'
        : wanted === 'label-logprob'
          ? 'it does not continue an assistant prefill with top-k log-probabilities'
          : 'it returns no top-k log-probabilities of the answer (or decoding.topLogprobs is 0)';
    throw new SclabError('config', `ranking.method ${wanted}: the ${description.kind} backend (${description.model}) cannot rank this way: ${why}; use auto or another method`);
  }
  return wanted;
}

/**
 * The answer format's opening the label-probability request adds to the prefill: " (" before "(a)"-style labels
 * (nothing when the prefill already ends with "("), nothing before word labels (their token carries its space).
 */
export function labelOpening(item: Item, prefill: string): string {
  const labels = item.choiceLabels ?? [];
  if (labels.length === 0 || !labels.every((l) => isLetteredLabel(l.trim()))) return '';
  return prefill.trimEnd().endsWith('(') ? '' : ' (';
}

/** The option scores of the label-probability rank: each label token's log-probability (null = outside the top k). */
export function labelOptionScores(alternatives: readonly TopAlternative[], item: Item): NonNullable<RoundRecord['optionScores']> {
  const labels = item.choiceLabels ?? item.choices ?? [];
  const logprobs = labelLogprobs(alternatives, labels);
  const goldRank = item.answer !== undefined && item.answer < labels.length ? rankFromTopK(logprobs, item.answer, 'label-logprob').rank : null;
  return { method: 'label-logprob', logprobs, goldRank };
}

/**
 * Rank of the gold option (1 = most likely). The authors rank by the mean per-token log-likelihood (exp(−loss)
 * normalised over options, which keeps the order); ties share the better rank (docs/numbers.md).
 */
export function goldRank(scores: OptionScoreResult, gold: number | undefined, aggregate: OptionAggregate): number | null {
  if (gold === undefined || gold < 0 || gold >= scores.logprobs.length) return null;
  return rankFromScores(scores.logprobs, gold, aggregate, tokenCounts(scores));
}

/** Tokens in each option's continuation. */
export function tokenCounts(scores: OptionScoreResult): number[] {
  return scores.logprobs.map((_, i) => scores.tokenLogprobs[i]?.length ?? 1);
}
