// Browser-safe: the gold option's rank per record, exact where the backend scored every option, approximate from the
// first answer tokens' top-k alternatives otherwise, and always labelled which.
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';

export type RankMethod = 'exact' | 'approximate';

export interface GoldRank {
  /** 1 = the gold option scored highest; ties share the best rank they span */
  rank: number;
  method: RankMethod;
}

type TopK = ReadonlyArray<{ token: string; logprob: number }>;

/** "(a)" → "a", " They" → "they": what is left of a label or a token once case, spaces and brackets are ignored. */
function core(s: string): string {
  return s.toLowerCase().replace(/^[\s([{"'.:]+|[\s)\]}"'.,:;!?]+$/g, '');
}

/** Which option a candidate token names: exactly one option's core equals it, or (two characters or more) starts with it. */
function optionOfToken(token: string, cores: readonly string[]): number | null {
  const t = core(token);
  if (t === '') return null;
  const exact = cores.flatMap((c, i) => (c === t ? [i] : []));
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1 || t.length < 2) return null;
  const prefix = cores.flatMap((c, i) => (c.startsWith(t) ? [i] : []));
  return prefix.length === 1 ? prefix[0]! : null;
}

/**
 * Approximate gold rank from top-k log-probabilities of the generated tokens. Labels such as "(a)" are usually split
 * into "(", "a", ")", so the position used is the first generated position whose alternatives name at least one option
 * (for one-token labels, the first token). Each option scores the best log-probability among the alternatives naming
 * it; options absent from the top k tie for last (rank = number of options). Returns null when the item has no labels
 * or no position names an option.
 */
export function approximateGoldRank(topLogprobs: ReadonlyArray<TopK>, item: Item): GoldRank | null {
  const labels = item.choiceLabels ?? item.choices;
  if (!labels || item.answer === undefined || item.answer >= labels.length) return null;
  const cores = labels.map(core);
  for (const alternatives of topLogprobs) {
    const best: Array<number | null> = cores.map(() => null);
    for (const alt of alternatives) {
      const k = optionOfToken(alt.token, cores);
      if (k !== null && (best[k] === null || alt.logprob > best[k]!)) best[k] = alt.logprob;
    }
    if (best.every((b) => b === null)) continue;
    const gold = best[item.answer];
    if (gold === null || gold === undefined) return { rank: labels.length, method: 'approximate' };
    const higher = best.filter((b) => b !== null && b > gold).length;
    return { rank: higher + 1, method: 'approximate' };
  }
  return null;
}

/** Rank of the gold option from per-option scores (higher = better); null scores rank last. */
export function rankFromScores(scores: ReadonlyArray<number | null>, gold: number): number | null {
  const g = scores[gold];
  if (g === null || g === undefined) return null;
  return 1 + scores.filter((s) => s !== null && s > g).length;
}

const rememberedRanks = new WeakMap<RoundRecord, GoldRank | null>();

/**
 * For a record slimmed for analysis (its top-k alternatives dropped at read time): the rank `goldRankOf` gave the
 * full record, which it then returns for the slim one.
 */
export function rememberGoldRank(record: RoundRecord, rank: GoldRank | null): void {
  rememberedRanks.set(record, rank);
}

/**
 * The gold rank of one record: the recorded ranking first (its method as recorded; the rank recomputed from the
 * option scores when the record carries scores but no rank), else an approximate rank from the record's top-k
 * log-probabilities. Null for errors, generation items and records with nothing to rank from.
 */
export function goldRankOf(record: RoundRecord, item: Item | undefined): GoldRank | null {
  const remembered = rememberedRanks.get(record);
  if (remembered !== undefined) return remembered;
  if (record.error) return null;
  const os = record.optionScores;
  if (os) {
    if (os.goldRank !== null) return { rank: os.goldRank, method: os.method };
    if (item?.answer !== undefined) {
      const rank = rankFromScores(os.logprobs, item.answer);
      if (rank !== null) return { rank, method: os.method };
    }
  }
  if (record.topLogprobs && item && item.kind === 'mcq') return approximateGoldRank(record.topLogprobs, item);
  return null;
}
