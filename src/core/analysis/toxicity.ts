// Browser-safe: scorer results (e.g. toxicity) per condition × round, with the scorers that produced them.
import type { RoundRecord } from '../model/record';

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
