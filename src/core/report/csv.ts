// One flat CSV row per record (RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF quoted, quotes doubled),
// for spreadsheets and R/pandas; text that would start a spreadsheet formula is neutralised with a leading "'". Numbers come from the same analysis functions as the report.
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';
import { goldRankOf } from '../analysis/goldRank';
import { bandScore, probeNames, resolveBands, type ProbeOptions } from '../analysis/probes';
import { eachRecord, indexRecords, type Records } from '../analysis/recordTable';

/** a text cell a spreadsheet would run as a formula (=HYPERLINK(…), +cmd, -2+3, @SUM, or after a tab or CR) */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field. Text that would start a formula gets a leading apostrophe, which spreadsheets show as text and do
 * not run (numbers, negative ones included, are written as numbers).
 */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' && FORMULA_START.test(v) ? `'${v}` : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return fields.map(csvField).join(',') + '\r\n';
}

export function recordsToCsv(records: Records, items: readonly Item[], experiment?: Experiment, opts: { probes?: ProbeOptions; scoreKeys?: string[] } = {}): string {
  const ix = indexRecords(records, items, experiment);
  const names = probeNames(eachRecord(records));
  const bands = resolveBands(ix, names, experiment, opts.probes);
  const measure = opts.probes?.measure ?? 'cosine';
  const keys = opts.scoreKeys ?? scoreKeysOf(eachRecord(records));
  const header = [
    'item_id',
    'condition',
    'round',
    'answer_index',
    'answer_label',
    'correct',
    'gold_rank',
    'gold_rank_method',
    ...keys.flatMap((k) => [k, `${k}_scorer`]),
    ...names.map((n) => {
      const b = bands.get(n);
      return `probe_${n}_band${b ? `_${b.lo}_${b.hi}` : ''}_${measure}`;
    }),
    'error_code',
    'cached',
    'latency_ms',
    'response',
  ];
  let out = csvLine(header);
  for (const r of eachRecord(records)) {
    const g = goldRankOf(r, ix.items.get(r.itemId));
    out += csvLine([
      r.itemId,
      r.condition,
      r.round,
      r.answer?.index,
      r.answer?.label,
      r.correct,
      g?.rank,
      g?.method,
      ...keys.flatMap((k) => {
        const s = r.scores?.[k];
        return [s?.value, s ? `${s.scorer}@${s.version}` : undefined];
      }),
      ...names.map((n) => {
        const b = bands.get(n);
        return b ? bandScore(r.probes?.[n], b, measure) : null;
      }),
      r.error?.code,
      r.cached,
      r.latencyMs,
      r.response,
    ]);
  }
  return out;
}

/** Score keys in first-seen order. */
function scoreKeysOf(records: Iterable<RoundRecord>): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.scores ?? {})) keys.add(k);
  return [...keys];
}
