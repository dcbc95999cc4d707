// Browser-safe: gold-rank distributions per condition and round, from the records' option rankings.
import type { RoundRecord } from '../model/record';

export interface RankDistribution {
  condition: string;
  round: number;
  /** counts[k] = records whose gold option ranked k + 1 */
  counts: number[];
  total: number;
  method: 'exact' | 'approximate' | 'mixed';
}

export function rankDistributions(records: readonly RoundRecord[]): RankDistribution[] {
  const cells = new Map<string, RankDistribution & { methods: Set<string> }>();
  for (const r of records) {
    const rank = r.optionScores?.goldRank;
    if (r.error || rank === null || rank === undefined) continue;
    const key = `${r.condition}\u0000${r.round}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { condition: r.condition, round: r.round, counts: [], total: 0, method: 'exact', methods: new Set() };
      cells.set(key, cell);
    }
    while (cell.counts.length < rank) cell.counts.push(0);
    cell.counts[rank - 1]!++;
    cell.total++;
    cell.methods.add(r.optionScores!.method);
  }
  return [...cells.values()].map(({ methods, ...c }) => ({
    ...c,
    method: methods.size > 1 ? 'mixed' : (methods.values().next().value as 'exact' | 'approximate'),
  }));
}
