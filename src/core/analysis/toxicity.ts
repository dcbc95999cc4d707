// Browser-safe: scorer results (e.g. toxicity) per condition × round, with the scorers that produced them.
import type { RoundRecord } from '../model/record';
import { spearman } from './stats';

export interface ScoreSummary {
  /** records with a numeric score */
  n: number;
  /** records whose scorer failed (value null) */
  failed: number;
  mean: number | null;
  /** share of scores above the threshold (default 0.5) */
  shareAbove: number | null;
  threshold: number;
  /** every scorer name@version seen, so numbers from different scorers are never silently mixed */
  scorers: Array<{ scorer: string; version: string; n: number }>;
  /** true when more than one scorer/version produced these numbers */
  mixed: boolean;
}

/** Summary of score `key` over records; null when no record carries that score. */
export function scoreSummary(records: Iterable<RoundRecord>, key = 'toxicity', threshold = 0.5): ScoreSummary | null {
  let n = 0;
  let failed = 0;
  let sum = 0;
  let above = 0;
  const scorers = new Map<string, { scorer: string; version: string; n: number }>();
  for (const r of records) {
    const s = r.scores?.[key];
    if (r.error || !s) continue;
    const id = `${s.scorer}@${s.version}`;
    let e = scorers.get(id);
    if (!e) scorers.set(id, (e = { scorer: s.scorer, version: s.version, n: 0 }));
    if (s.value === null) {
      failed++;
      continue;
    }
    e.n++;
    n++;
    sum += s.value;
    if (s.value > threshold) above++;
  }
  if (scorers.size === 0) return null;
  return {
    n,
    failed,
    mean: n > 0 ? sum / n : null,
    shareAbove: n > 0 ? above / n : null,
    threshold,
    scorers: [...scorers.values()],
    mixed: scorers.size > 1,
  };
}

export interface ScoreKeyRow {
  /** the key in records' scores, e.g. "toxicity" or a re-scored "toxicity-offline" */
  key: string;
  /** scorer@version of every scorer seen under the key */
  scorers: string[];
  n: number;
  mean: number | null;
  /** mean per condition × round, in the run's order */
  cells: Array<{ condition: string; round: number; n: number; mean: number | null }>;
  /** against the main key on the records scored by both (absent for the main key itself) */
  versusMain?: { n: number; spearman: number | null; meanDifference: number | null };
}

/**
 * Every score key of a run side by side, when there is more than one (e.g. Perspective scores and an offline
 * re-scoring next to them): means per condition × round, and Spearman's ρ with the main key on the records both
 * scored. Null when the records carry fewer than two keys.
 */
export function compareScoreKeys(records: Iterable<RoundRecord>, mainKey: string): ScoreKeyRow[] | null {
  const rows = new ScoreKeyRows();
  for (const r of records) rows.add(r);
  return rows.result(mainKey);
}

/**
 * compareScoreKeys one record at a time: what it keeps is the cells in first-seen order (every record names one) and
 * the records that carry scores (the only ones any number reads: a record without scores has no value under any key).
 */
export class ScoreKeyRows {
  private readonly order: Array<{ condition: string; round: number }> = [];
  private readonly seen = new Set<string>();
  private readonly scored: RoundRecord[] = [];

  add(r: RoundRecord): void {
    const id = `${r.condition}\u0000${r.round}`;
    if (!this.seen.has(id)) {
      this.seen.add(id);
      this.order.push({ condition: r.condition, round: r.round });
    }
    if (r.scores) this.scored.push(r);
  }

  result(mainKey: string): ScoreKeyRow[] | null {
    return scoreKeyRows(this.order, this.scored, mainKey);
  }
}

function scoreKeyRows(order: ReadonlyArray<{ condition: string; round: number }>, scored: readonly RoundRecord[], mainKey: string): ScoreKeyRow[] | null {
  const keys = [...new Set(scored.flatMap((r) => (r.error ? [] : Object.keys(r.scores ?? {}))))].sort((a, b) => (a === mainKey ? -1 : b === mainKey ? 1 : a.localeCompare(b)));
  if (keys.length < 2) return null;
  const value = (r: RoundRecord, k: string): number | null => (r.error ? null : (r.scores?.[k]?.value ?? null));
  const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return keys.map((key) => {
    const vals = scored.map((r) => value(r, key)).filter((v): v is number => v !== null);
    const row: ScoreKeyRow = {
      key,
      scorers: [...new Set(scored.flatMap((r) => (r.scores?.[key] ? [`${r.scores[key]!.scorer}@${r.scores[key]!.version}`] : [])))],
      n: vals.length,
      mean: meanOf(vals),
      cells: order.map(({ condition, round }) => {
        const xs = scored.filter((r) => r.condition === condition && r.round === round).map((r) => value(r, key)).filter((v): v is number => v !== null);
        return { condition, round, n: xs.length, mean: meanOf(xs) };
      }),
    };
    if (key !== mainKey && keys.includes(mainKey)) {
      const a: number[] = [];
      const b: number[] = [];
      for (const r of scored) {
        const x = value(r, mainKey);
        const y = value(r, key);
        if (x !== null && y !== null) {
          a.push(x);
          b.push(y);
        }
      }
      row.versusMain = { n: a.length, spearman: a.length >= 2 ? spearman(a, b) : null, meanDifference: a.length ? meanOf(b.map((y, i) => y - a[i]!)) : null };
    }
    return row;
  });
}
