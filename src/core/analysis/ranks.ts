// Browser-safe: gold-rank distributions, transitions between rounds, correctness flips, and accuracy over rounds
// split by the gold rank at the start (the paper's first finding: self-correction helps when the correct answer is
// already top-ranked).
import type { RoundRecord } from '../model/record';
import { goldRankOf, type GoldRank, type RankMethod } from './goldRank';
import { CellRecords } from './recordTable';
import { cell, roundsOf, baselineOf, type RunIndex } from './runIndex';
import { bootstrapMean, type BootstrapOptions, type Interval } from './stats';

export type MethodLabel = RankMethod | 'mixed';

export interface RankDistribution {
  condition: string;
  round: number;
  /** counts[k] = records whose gold option ranked k + 1 */
  counts: number[];
  total: number;
  method: MethodLabel;
  /** label-logprob ranks whose gold option was outside the top k (rank is a lower bound) */
  censored: number;
}

function methodLabel(methods: Set<string>): MethodLabel {
  return methods.size > 1 ? 'mixed' : (methods.values().next().value as RankMethod);
}

/** Distributions from the recorded option rankings only (kept for callers without items). */
export function rankDistributions(records: readonly RoundRecord[]): RankDistribution[] {
  const cells = new Map<string, RankDistribution & { methods: Set<string> }>();
  for (const r of records) {
    const rank = r.optionScores?.goldRank;
    if (r.error || rank === null || rank === undefined) continue;
    const key = `${r.condition}\u0000${r.round}`;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { condition: r.condition, round: r.round, counts: [], total: 0, method: 'exact', censored: 0, methods: new Set() }));
    while (c.counts.length < rank) c.counts.push(0);
    c.counts[rank - 1]!++;
    c.total++;
    // best-rank convention: only a censored gold ranks below every listed option
    if (r.optionScores!.method === 'label-logprob' && rank > r.optionScores!.logprobs.filter((v) => v !== null).length) c.censored++;
    c.methods.add(r.optionScores!.method);
  }
  return [...cells.values()].map(({ methods, ...c }) => ({ ...c, method: methodLabel(methods) }));
}

/** Gold ranks of one cell, by item. */
export function cellRanks(ix: RunIndex, condition: string, round: number): ReadonlyMap<string, GoldRank> {
  const c = cell(ix, condition, round);
  // a RecordTable's cell holds each row's rank, computed with these same items as the table was read
  const held = c instanceof CellRecords ? c.ranks(ix.items) : null;
  if (held) return held;
  const out = new Map<string, GoldRank>();
  for (const [id, r] of c) {
    const g = goldRankOf(r, ix.items.get(id));
    if (g) out.set(id, g);
  }
  return out;
}

export interface GoldRankSummary {
  /** ranked records */
  n: number;
  /** mean rank (best-rank ties; censored ranks enter at their lower bound) */
  mean: number;
  /** ranked records whose gold option was outside the top k, and their share of n */
  censored: number;
  censoredShare: number;
  /** counts[k] = records whose gold option ranked k + 1 */
  counts: number[];
  method: MethodLabel;
}

export function summarizeRanks(ranks: ReadonlyMap<string, GoldRank>): GoldRankSummary | null {
  if (ranks.size === 0) return null;
  const counts: number[] = [];
  const methods = new Set<string>();
  let sum = 0;
  let censored = 0;
  for (const g of ranks.values()) {
    while (counts.length < g.rank) counts.push(0);
    counts[g.rank - 1]!++;
    sum += g.rank;
    if (g.censored) censored++;
    methods.add(g.method);
  }
  return { n: ranks.size, mean: sum / ranks.size, censored, censoredShare: censored / ranks.size, counts, method: methodLabel(methods) };
}

export interface RankTransition {
  condition: string;
  from: number;
  to: number;
  /** matrix[i][j] = items with gold rank i + 1 in round `from` and j + 1 in round `to` */
  matrix: number[][];
  n: number;
  method: MethodLabel;
}

/** Round-to-round gold-rank transition matrices of every multi-round condition. */
export function rankTransitions(ix: RunIndex): RankTransition[] {
  const out: RankTransition[] = [];
  for (const c of ix.conditions) {
    const rounds = roundsOf(ix, c);
    const ranks = rounds.map((r) => cellRanks(ix, c, r));
    // a loop, not Math.max(...ranks): a spread of every item's rank overflows the stack at a few hundred thousand
    let size = 0;
    for (const m of ranks) for (const g of m.values()) if (g.rank > size) size = g.rank;
    for (let k = 0; k + 1 < rounds.length; k++) {
      const a = ranks[k]!;
      const b = ranks[k + 1]!;
      const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
      const methods = new Set<string>();
      let n = 0;
      for (const [id, ga] of a) {
        const gb = b.get(id);
        if (!gb) continue;
        matrix[ga.rank - 1]![gb.rank - 1]!++;
        methods.add(ga.method).add(gb.method);
        n++;
      }
      if (n > 0) out.push({ condition: c, from: rounds[k]!, to: rounds[k + 1]!, matrix, n, method: methodLabel(methods) });
    }
  }
  return out;
}

/** A cell's `get(id)?.correct`: from a table's column where the cell is a table's, without building records. */
function correctness(m: ReadonlyMap<string, RoundRecord>): (id: string) => boolean | null | undefined {
  return m instanceof CellRecords ? (id) => m.correctOf(id) : (id) => m.get(id)?.correct;
}

export interface FlipCounts {
  condition: string;
  /** items judged in every round of the condition */
  items: number;
  stayedCorrect: number;
  stayedWrong: number;
  /** changed exactly once, from correct to wrong */
  correctToWrong: number;
  wrongToCorrect: number;
  /** changed more than once */
  wavering: number;
  /** items left out because some round is missing, failed or could not be judged */
  incomplete: number;
}

/** Correctness flips over the rounds of every multi-round condition. */
export function correctnessFlips(ix: RunIndex): FlipCounts[] {
  const out: FlipCounts[] = [];
  for (const c of ix.conditions) {
    const rounds = roundsOf(ix, c);
    if (rounds.length < 2) continue;
    const cells = rounds.map((r) => cell(ix, c, r));
    const f: FlipCounts = { condition: c, items: 0, stayedCorrect: 0, stayedWrong: 0, correctToWrong: 0, wrongToCorrect: 0, wavering: 0, incomplete: 0 };
    const ids = new Set(cells.flatMap((m) => [...m.keys()]));
    const correct = cells.map(correctness);
    for (const id of ids) {
      const seq = correct.map((of) => of(id) ?? null);
      if (seq.some((v) => v === null)) {
        f.incomplete++;
        continue;
      }
      f.items++;
      let changes = 0;
      for (let k = 1; k < seq.length; k++) if (seq[k] !== seq[k - 1]) changes++;
      if (changes > 1) f.wavering++;
      else if (changes === 1) {
        if (seq[0]) f.correctToWrong++;
        else f.wrongToCorrect++;
      } else if (seq[0]) f.stayedCorrect++;
      else f.stayedWrong++;
    }
    out.push(f);
  }
  return out;
}

export interface RankSplitRow {
  condition: string;
  /** round0: the gold rank at round 0 of the same condition; baseline: at the baseline condition */
  by: 'round0' | 'baseline';
  rank: number;
  method: MethodLabel;
  /** items in this group */
  items: number;
  /** accuracy per round over the group's items judged in that round, with a bootstrap interval over items */
  rounds: Array<{ round: number; n: number; accuracy: number | null; ci: Interval | null }>;
}

/**
 * Accuracy over rounds of each multi-round condition, split by the gold rank the item had at round 0 of the same
 * condition and (where there is a baseline) at the baseline.
 */
export function rankSplit(ix: RunIndex, opts: BootstrapOptions = {}): RankSplitRow[] {
  const out: RankSplitRow[] = [];
  const base = baselineOf(ix);
  const baseRanks: ReadonlyMap<string, GoldRank> = base ? cellRanks(ix, base, 0) : new Map<string, GoldRank>();
  for (const c of ix.conditions) {
    const rounds = roundsOf(ix, c);
    if (rounds.length < 2) continue;
    const refs: Array<['round0' | 'baseline', ReadonlyMap<string, GoldRank>]> = [['round0', cellRanks(ix, c, rounds[0]!)]];
    if (base && base !== c) refs.push(['baseline', baseRanks]);
    for (const [by, ref] of refs) {
      const groups = new Map<number, string[]>();
      const methods = new Map<number, Set<string>>();
      for (const [id, g] of ref) {
        if (!groups.has(g.rank)) {
          groups.set(g.rank, []);
          methods.set(g.rank, new Set());
        }
        groups.get(g.rank)!.push(id);
        methods.get(g.rank)!.add(g.method);
      }
      for (const rank of [...groups.keys()].sort((a, b) => a - b)) {
        const ids = groups.get(rank)!;
        out.push({
          condition: c,
          by,
          rank,
          method: methodLabel(methods.get(rank)!),
          items: ids.length,
          rounds: rounds.map((round) => {
            const correctOf = correctness(cell(ix, c, round));
            const values = ids.flatMap((id) => {
              const v = correctOf(id);
              return v === null || v === undefined ? [] : [v ? 1 : 0];
            });
            const ci = bootstrapMean(values, opts);
            return { round, n: values.length, accuracy: ci?.estimate ?? null, ci };
          }),
        });
      }
    }
  }
  return out;
}
