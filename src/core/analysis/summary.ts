// Browser-safe: the viewer imports this too, so numbers never diverge between the CLI report and the panel.
import type { RoundRecord } from '../model/record';

export interface CellSummary {
  condition: string;
  round: number;
  records: number;
  errors: number;
  /** records with a parsed answer, among records without error */
  parsed: number;
  /** records with correct === true / with correct !== null */
  correct: number;
  judged: number;
  /** correct / judged; null when nothing could be judged */
  accuracy: number | null;
  /** parsed / (records - errors); null when every record failed */
  parseRate: number | null;
  meanLatencyMs: number | null;
  /** mean gold rank over records with an option ranking */
  meanGoldRank: number | null;
  /** of those ranks, how many are censored (label-logprob: the gold label outside the top k; its rank a lower bound) */
  censoredRanks: number;
  rankMethod: 'exact' | 'label-logprob' | 'approximate' | 'mixed' | null;
}

export interface RunSummary {
  schema: 'sclab.summary/1';
  records: number;
  errors: number;
  cached: number;
  errorsByCode: Record<string, number>;
  items: number;
  /** per condition and round, conditions in first-seen order, rounds ascending */
  cells: CellSummary[];
}

type CellAccumulator = CellSummary & { latencySum: number; latencyN: number; rankSum: number; rankN: number; censoredRanks: number; methods: Set<string> };

/** The summary built one record at a time (running sums per cell: no record is kept). */
export class SummaryAccumulator {
  private readonly cells = new Map<string, CellAccumulator>();
  private readonly conditionOrder: string[] = [];
  private readonly errorsByCode: Record<string, number> = {};
  private readonly items = new Set<string>();
  private records = 0;
  private errors = 0;
  private cached = 0;

  add(r: RoundRecord): void {
    this.records++;
    this.items.add(r.itemId);
    if (r.cached) this.cached++;
    const key = `${r.condition}\u0000${r.round}`;
    let cell = this.cells.get(key);
    if (!cell) {
      if (!this.conditionOrder.includes(r.condition)) this.conditionOrder.push(r.condition);
      cell = {
        condition: r.condition,
        round: r.round,
        records: 0,
        errors: 0,
        parsed: 0,
        correct: 0,
        judged: 0,
        accuracy: null,
        parseRate: null,
        meanLatencyMs: null,
        meanGoldRank: null,
        rankMethod: null,
        latencySum: 0,
        latencyN: 0,
        rankSum: 0,
        rankN: 0,
        censoredRanks: 0,
        methods: new Set(),
      };
      this.cells.set(key, cell);
    }
    cell.records++;
    if (r.error) {
      cell.errors++;
      this.errors++;
      this.errorsByCode[r.error.code] = (this.errorsByCode[r.error.code] ?? 0) + 1;
      return;
    }
    if (r.answer) cell.parsed++;
    if (r.correct !== null) {
      cell.judged++;
      if (r.correct) cell.correct++;
    }
    if (!r.cached) {
      cell.latencySum += r.latencyMs;
      cell.latencyN++;
    }
    if (r.optionScores && r.optionScores.goldRank !== null) {
      cell.rankSum += r.optionScores.goldRank;
      cell.rankN++;
      const os = r.optionScores;
      // best-rank convention: only a censored gold ranks below every listed option
      if (os.method === 'label-logprob' && os.goldRank! > os.logprobs.filter((v) => v !== null).length) cell.censoredRanks++;
      cell.methods.add(os.method);
    }
  }

  result(): RunSummary {
    const out: CellSummary[] = [];
    for (const c of this.cells.values()) {
      const ok = c.records - c.errors;
      out.push({
        condition: c.condition,
        round: c.round,
        records: c.records,
        errors: c.errors,
        parsed: c.parsed,
        correct: c.correct,
        judged: c.judged,
        accuracy: c.judged > 0 ? c.correct / c.judged : null,
        parseRate: ok > 0 ? c.parsed / ok : null,
        meanLatencyMs: c.latencyN > 0 ? c.latencySum / c.latencyN : null,
        meanGoldRank: c.rankN > 0 ? c.rankSum / c.rankN : null,
        censoredRanks: c.censoredRanks,
        rankMethod: c.methods.size === 0 ? null : c.methods.size > 1 ? 'mixed' : (c.methods.values().next().value as 'exact' | 'label-logprob' | 'approximate'),
      });
    }
    const order = this.conditionOrder;
    out.sort((a, b) => order.indexOf(a.condition) - order.indexOf(b.condition) || a.round - b.round);
    return { schema: 'sclab.summary/1', records: this.records, errors: this.errors, cached: this.cached, errorsByCode: { ...this.errorsByCode }, items: this.items.size, cells: out };
  }
}

export function summarizeRecords(records: Iterable<RoundRecord>): RunSummary {
  const acc = new SummaryAccumulator();
  for (const r of records) acc.add(r);
  return acc.result();
}
