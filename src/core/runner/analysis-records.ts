// The records as analysis reads them: one streaming pass over records.jsonl into a RecordTable (columns of typed
// arrays, no object per record; see recordTable.ts for exactly what is kept), so that a million records analyse in
// bounded memory and give the same numbers as the whole records. The gold rank a record's top-k alternatives give is
// computed here, with the item, since the alternatives are not kept. Optionally, an index itemId → byte ranges of
// the item's lines, from which the viewer reads one item's whole records (conversation included).
import { RecordTable } from '../analysis/recordTable';
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { collectAfterPhase } from './collect-garbage';
import { forEachRecord, parseRecordLine, RECORDS_FILE } from './store';

export interface AnalysisRecordsOptions {
  /** keep each record's response text (default false) */
  responses?: boolean;
  /** collect itemId → byte ranges of its lines in records.jsonl */
  offsets?: boolean;
  /**
   * the lines expected (the manifest's recorded count): the table's columns are allocated once at that size rather
   * than grown (a grown column is up to half empty, and its old copy is garbage); more lines still fit. Capped by the
   * file's size, so that a wrong manifest cannot ask for more than the file could hold.
   */
  rows?: number;
}

export interface AnalysisRecords {
  table: RecordTable;
  tornBytes: number;
  /** itemId → byte ranges of each of its lines, in file order (when asked for) */
  offsets?: ItemOffsets;
}

/**
 * Where each item's lines are in records.jsonl: per item, its lines' byte offsets and lengths in two growable typed
 * arrays (16 bytes a line, no object per line).
 */
export class ItemOffsets {
  private readonly at = new Map<string, { n: number; offsets: Float64Array; bytes: Float64Array }>();

  add(itemId: string, offset: number, bytes: number): void {
    let e = this.at.get(itemId);
    if (!e) this.at.set(itemId, (e = { n: 0, offsets: new Float64Array(4), bytes: new Float64Array(4) }));
    if (e.n === e.offsets.length) {
      const offsets = new Float64Array(e.n * 2);
      const lengths = new Float64Array(e.n * 2);
      offsets.set(e.offsets);
      lengths.set(e.bytes);
      e.offsets = offsets;
      e.bytes = lengths;
    }
    e.offsets[e.n] = offset;
    e.bytes[e.n] = bytes;
    e.n++;
  }

  /** [offset, bytes] of each of the item's lines, in file order (empty for an item with none) */
  get(itemId: string): Array<[number, number]> {
    const e = this.at.get(itemId);
    if (!e) return [];
    const out: Array<[number, number]> = [];
    for (let k = 0; k < e.n; k++) out.push([e.offsets[k]!, e.bytes[k]!]);
    return out;
  }

  has(itemId: string): boolean {
    return this.at.has(itemId);
  }
}

/** no record line is shorter: its required fields' names alone take more */
const MIN_RECORD_LINE_BYTES = 100;

/** The run's records as a RecordTable, read in one streaming pass (see the top of this file). */
export async function readAnalysisRecords(runDir: string, items: readonly Item[], opts: AnalysisRecordsOptions = {}): Promise<AnalysisRecords> {
  let rows = 0;
  if (opts.rows !== undefined && opts.rows > 0) {
    const bytes = await fs.stat(path.join(runDir, RECORDS_FILE)).then((st) => st.size, () => 0);
    rows = Math.min(Math.floor(opts.rows), Math.floor(bytes / MIN_RECORD_LINE_BYTES));
  }
  const table = new RecordTable({ responses: opts.responses === true, items, rows });
  const offsets = opts.offsets ? new ItemOffsets() : undefined;
  const { tornBytes } = await forEachRecord(runDir, (r: RoundRecord, at) => {
    // the alternatives go; the rank they give stays, computed exactly as the analysis would
    table.add(r);
    offsets?.add(r.itemId, at.offset, at.bytes);
  }, { readOnly: true });
  // the parsed lines' garbage goes before analysis works on the table (see collect-garbage.ts)
  collectAfterPhase(table.size);
  return { table, tornBytes, ...(offsets ? { offsets } : {}) };
}

/** The whole records at the given byte ranges of records.jsonl (one item's lines, from `offsets`), checked as on any read. */
export async function readRecordsAt(runDir: string, ranges: ReadonlyArray<readonly [number, number]>): Promise<RoundRecord[]> {
  const reader = await openRecordsAt(runDir);
  try {
    return await reader.read(ranges);
  } finally {
    await reader.close();
  }
}

/** records.jsonl held open for many reads by byte ranges (a search that reads item after item). */
export async function openRecordsAt(runDir: string): Promise<{ read(ranges: ReadonlyArray<readonly [number, number]>): Promise<RoundRecord[]>; close(): Promise<void> }> {
  const file = path.join(runDir, RECORDS_FILE);
  const fh = await fs.open(file, 'r');
  return {
    async read(ranges) {
      const out: RoundRecord[] = [];
      for (const [offset, bytes] of ranges) {
        const buf = Buffer.alloc(bytes);
        await fh.read(buf, 0, bytes, offset);
        out.push(parseRecordLine(file, `byte ${offset}`, buf.toString('utf8').trimEnd()));
      }
      return out;
    },
    close: () => fh.close(),
  };
}
