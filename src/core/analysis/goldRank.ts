// Browser-safe: the gold option's rank per record, and which method it rests on:
//   exact          every option's continuation scored by log-likelihood (optionLogprobs backends)
//   label-logprob  one extra request per round continuing the prefill plus the answer format's opening (" ("): the
//                  options ranked by their label token's log-probability at that one position
//   approximate    read from the generated answer's own top-k alternatives, at the position where the answer names
//                  its option's label (exact token match, never a prefix); no such position → unranked (null)
//
// One tie convention for every method: BEST RANK — options with equal scores share the best rank they span
// (1 + the number of options scoring strictly higher). Options absent from a top-k list tie below every listed
// option; a gold option absent from the list is CENSORED: its rank is (listed options) + 1, which is the best rank
// it could have, i.e. a lower bound on its true rank. The censored share is shown wherever a mean rank is.
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';
import { PRONOUN_FORMS } from '../protocol/labelMatching';
import { isLetteredLabel } from '../protocol/templates';

export type RankMethod = 'exact' | 'label-logprob' | 'approximate';

export interface GoldRank {
  /** 1 = the gold option scored highest; ties share the best rank they span */
  rank: number;
  method: RankMethod;
  /** the gold option was outside the top-k list: its rank is a lower bound (see the file's head) */
  censored: boolean;
}

type Alternative = { token: string; logprob: number };
type TopK = ReadonlyArray<Alternative>;

/** A token or label with case, surrounding spaces, brackets and punctuation removed: " (c" → "c", " They" → "they". */
export function tokenCore(s: string): string {
  return s.toLowerCase().replace(/^[\s([{"'.:]+|[\s)\]}"'.,:;!?]+$/g, '');
}

/** For each option, the exact cores a token must have to name it: the letter ("(c)" → c), or the word and its case forms. */
export function labelCores(labels: readonly string[]): string[][] {
  return labels.map((label) => {
    const lower = label.trim().toLowerCase();
    if (isLetteredLabel(lower)) return [lower.slice(1, -1)];
    return [...(PRONOUN_FORMS[lower] ?? [tokenCore(lower)])];
  });
}

/** The option a token names by exact core match, or null (no option, or more than one). */
function optionOf(token: string, cores: readonly string[][]): number | null {
  const t = tokenCore(token);
  if (t === '') return null;
  const hits = cores.flatMap((forms, i) => (forms.includes(t) ? [i] : []));
  return hits.length === 1 ? hits[0]! : null;
}

/**
 * Rank of `gold` among options scored from one position's top-k list (each option: its best alternative's
 * log-probability, null when absent from the list). Best-rank ties; an absent gold is censored.
 */
export function rankFromTopK(best: ReadonlyArray<number | null>, gold: number, method: RankMethod): GoldRank {
  const g = best[gold];
  if (g === null || g === undefined) return { rank: best.filter((b) => b !== null).length + 1, method, censored: true };
  return { rank: 1 + best.filter((b) => b !== null && b > g).length, method, censored: false };
}

/** Each option's best log-probability among one position's alternatives naming it exactly; null where none does. */
export function labelLogprobs(alternatives: TopK, labels: readonly string[]): Array<number | null> {
  const cores = labelCores(labels);
  const best: Array<number | null> = labels.map(() => null);
  for (const alt of alternatives) {
    const k = optionOf(alt.token, cores);
    if (k !== null && (best[k] === null || alt.logprob > best[k]!)) best[k] = alt.logprob;
  }
  return best;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * The generated tokens, reconstructed when the record does not carry them: at each position the alternative that
 * spells the response's next characters (the likeliest such one, which greedy decoding picked). Stops where no
 * alternative fits (the chosen token was outside the top k).
 */
function generatedTokens(topLogprobs: ReadonlyArray<TopK>, response: string, recorded: readonly string[] | undefined): string[] {
  if (recorded && recorded.length > 0) return recorded.slice(0, topLogprobs.length);
  const out: string[] = [];
  let at = 0;
  for (const alternatives of topLogprobs) {
    let pick: Alternative | undefined;
    for (const a of alternatives) if (a.token !== '' && response.startsWith(a.token, at) && (!pick || a.logprob > pick.logprob)) pick = a;
    if (!pick) break;
    out.push(pick.token);
    at += pick.token.length;
  }
  return out;
}

/**
 * Where the answer names its option: the first generated position whose token is exactly an option's label token —
 * for lettered labels the letter right after "(" (in the token or just before it) and not followed by a letter; for
 * word labels the whole word. Returns the position index, or null when the answer names no option this way.
 */
export function answerLabelPosition(tokens: readonly string[], labels: readonly string[], textBefore: string): number | null {
  const cores = labelCores(labels);
  const lettered = labels.every((l) => isLetteredLabel(l.trim()));
  let text = textBefore;
  for (let p = 0; p < tokens.length; p++) {
    const token = tokens[p]!;
    const start = text.length;
    text += token;
    if (optionOf(token, cores) === null) continue;
    const next = tokens[p + 1]?.charAt(0) ?? '';
    if (WORD_CHAR.test(next)) continue; // "a" of "(apples": not a label
    if (lettered) {
      const letterAt = start + token.search(/[a-z]/i);
      if (text.charAt(letterAt - 1) !== '(') continue; // "a" of "is a great idea": an article, not "(a)"
    } else {
      const wordAt = start + token.search(/\S/);
      // a word's tail is not a whole word ("the" + "y"); the start of the response is a boundary
      if (wordAt > textBefore.length && WORD_CHAR.test(text.charAt(wordAt - 1))) continue;
    }
    return p;
  }
  return null;
}

/**
 * Approximate gold rank from the generated answer's top-k log-probabilities, read at the position where the answer
 * names its option (answerLabelPosition). Null when the item has no labels or gold, or the answer names no option.
 */
export function approximateGoldRank(topLogprobs: ReadonlyArray<TopK>, item: Item, answer: { response: string; prefill?: string; tokens?: readonly string[] }): GoldRank | null {
  const labels = item.choiceLabels ?? item.choices;
  if (!labels || item.answer === undefined || item.answer >= labels.length) return null;
  const tokens = generatedTokens(topLogprobs, answer.response, answer.tokens);
  const at = answerLabelPosition(tokens, labels, answer.prefill ?? '');
  if (at === null) return null;
  return rankFromTopK(labelLogprobs(topLogprobs[at]!, labels), item.answer, 'approximate');
}

export type OptionAggregate = 'mean' | 'sum';

/**
 * Rank of the gold option from per-option log-likelihoods (higher = better), best-rank ties. With `aggregate`
 * mean and per-option token counts, each sum is divided by its count first. Null when the gold score is missing.
 */
export function rankFromScores(scores: ReadonlyArray<number | null>, gold: number, aggregate: OptionAggregate = 'sum', tokenCounts?: readonly number[]): number | null {
  const value = (i: number): number | null => {
    const s = scores[i];
    if (s === null || s === undefined || !Number.isFinite(s)) return null;
    return aggregate === 'mean' && tokenCounts ? s / Math.max(1, tokenCounts[i] ?? 1) : s;
  };
  const g = value(gold);
  if (g === null) return null;
  let better = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = value(i);
    if (i !== gold && v !== null && v > g) better++;
  }
  return better + 1;
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
 * The gold rank of one record: the recorded ranking first (exact or label-logprob, as recorded; recomputed from
 * the option scores when the record carries scores but no rank), else an approximate rank from the record's top-k
 * log-probabilities. Null for errors, generation items and records with nothing to rank from.
 */
export function goldRankOf(record: RoundRecord, item: Item | undefined): GoldRank | null {
  const remembered = rememberedRanks.get(record);
  if (remembered !== undefined) return remembered;
  if (record.error) return null;
  const os = record.optionScores;
  if (os) {
    // an old record's 'approximate' option scores were read by the prefix rule this file replaced: re-read below
    if (os.method !== 'approximate') {
      const censored = os.method === 'label-logprob' && item?.answer !== undefined && os.logprobs[item.answer] === null;
      if (os.goldRank !== null) return { rank: os.goldRank, method: os.method, censored };
      if (item?.answer !== undefined) {
        if (os.method === 'label-logprob') return rankFromTopK(os.logprobs, item.answer, 'label-logprob');
        const rank = rankFromScores(os.logprobs, item.answer, os.aggregate ?? 'sum', os.tokenCounts);
        if (rank !== null) return { rank, method: os.method, censored: false };
      }
    }
  }
  if (record.topLogprobs && item && item.kind === 'mcq') {
    return approximateGoldRank(record.topLogprobs, item, { response: record.response, prefill: record.prefill, tokens: record.generatedTokens });
  }
  return null;
}
