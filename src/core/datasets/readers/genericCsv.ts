import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { Diagnostic } from '../../model/item';
import { cancelledError } from '../../model/errors';
import { errorAt, warningAt } from '../diagnostics';
import { choiceColumns, genericRowToItem, IdRegistry } from '../genericRow';
import type { PhysicalLine } from '../lines';
import type { DatasetEvent } from '../types';

/** more columns than any dataset has: a header over it is refused with one diagnostic instead of being indexed */
export const MAX_COLUMNS = 10_000;
/** longest record csv-parse gathers, in characters (a quote that never closes would gather the whole file) */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/** 1-based (line offset, column) where each field of a raw record starts, honouring quotes. */
export function fieldPositions(raw: string, delimiter: string): Array<{ line: number; column: number }> {
  const out = [{ line: 0, column: 1 }];
  let line = 0;
  let col = 1;
  let inQuotes = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '"') inQuotes = !inQuotes; // a doubled quote toggles twice
    else if (ch === '\n') {
      line++;
      col = 0;
    } else if (ch === delimiter && !inQuotes) out.push({ line, column: col + 1 });
    col++;
  }
  return out;
}

/**
 * Generic CSV (RFC 4180, via csv-parse) or TSV. Physical lines come from our own line reader, already UTF-8 checked
 * and with CR stripped, and are re-joined with LF: values never keep a stray \r, and csv-parse's line count (which
 * counts CR and LF separately inside quotes) matches the file's physical lines.
 */
export async function* readGenericDelimited(
  file: string,
  lines: AsyncIterable<PhysicalLine>,
  delimiter: ',' | '\t',
  signal?: AbortSignal,
): AsyncGenerator<DatasetEvent> {
  const side: Diagnostic[] = [];
  const badLines = new Set<number>();
  async function* text(): AsyncGenerator<string> {
    for await (const l of lines) {
      if (l.overlongBytes !== undefined) badLines.add(l.line); // reported by the line reader's caller
      if (l.badUtf8Column !== undefined) {
        badLines.add(l.line);
        side.push(errorAt({ file, line: l.line, column: l.badUtf8Column }, 'invalid UTF-8 byte sequence; the row was not read'));
      }
      yield l.text + '\n';
    }
  }
  const parser = parse({
    delimiter,
    // lines arrive re-joined with LF; telling csv-parse so spares it guessing on every record
    record_delimiter: '\n',
    info: true,
    raw: true,
    relax_column_count: true,
    skip_records_with_error: true,
    // TSV files are rarely quoted; treat a quote inside an unquoted cell as text
    relax_quotes: delimiter === '\t',
    // a quoted field that never closes would otherwise gather the rest of the file into one record
    max_record_size: MAX_RECORD_CHARS,
  });
  let lastEnd = 0;
  parser.on('skip', (err: Error & { lines?: number }) => {
    const start = lastEnd + 1;
    side.push(errorAt({ file, line: start, column: 1 }, `CSV syntax: ${err.message.replace(/ at line \d+/, '')}`));
    lastEnd = err.lines ?? start;
  });
  const source = Readable.from(text());
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);

  const ids = new IdRegistry();
  let header: string[] | null = null;
  let headerUsable = false;
  let choiceCols: string[] | null = null;
  const indexOfColumn = new Map<string, number>();
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      for (const diagnostic of side.splice(0)) yield { diagnostic };
      if (signal?.aborted) throw cancelledError();
      const end = rec.info.lines;
      const start = end - (rec.raw.replace(/\n$/, '').split('\n').length - 1);
      lastEnd = end;
      let spansBadLine = false;
      for (let n = start; n <= end; n++) if (badLines.has(n)) spansBadLine = true;
      if (spansBadLine) continue; // already reported (invalid UTF-8, or a line over the length cap)
      if (rec.record.length === 1 && rec.record[0]!.trim() === '' && !rec.raw.includes('"')) {
        yield { diagnostic: warningAt({ file, line: start, column: 1 }, 'blank line skipped') };
        continue;
      }
      // field positions cost a pass over the raw record: computed only for a row that has something to report
      let positions: Array<{ line: number; column: number }> | null = null;
      const columnOfIndex = (i: number) => {
        positions ??= fieldPositions(rec.raw, delimiter);
        const p = positions[i];
        return p && p.line === 0 ? p.column : 1;
      };
      if (!header) {
        if (rec.record.length > MAX_COLUMNS) {
          yield { diagnostic: errorAt({ file, line: start, column: 1 }, `the header has ${rec.record.length} columns; at most ${MAX_COLUMNS} are read (is this a dataset file?)`) };
          header = [];
          headerUsable = false;
          continue;
        }
        header = rec.record.map((h) => h.trim());
        const seen = new Set<string>();
        const dups = new Set<string>();
        for (const h of header) {
          if (seen.has(h)) dups.add(h);
          seen.add(h);
        }
        if (dups.size > 0) {
          const shown = [...dups].slice(0, 20).map((h) => (h === '' ? '(unnamed)' : h));
          yield { diagnostic: errorAt({ file, line: start, column: 1 }, `duplicate column name(s) in the header: ${shown.join(', ')}${dups.size > 20 ? ` and ${dups.size - 20} more` : ''}`) };
        }
        headerUsable = seen.has('question') || seen.has('prompt');
        if (!headerUsable) {
          yield {
            diagnostic: errorAt(
              { file, line: start, column: 1 },
              `no 'question' or 'prompt' column, so no row can become an item (columns: ${header.map((h) => (h === '' ? '(unnamed)' : h)).join(', ')})`,
            ),
          };
        }
        if (dups.size > 0) headerUsable = false;
        choiceCols = choiceColumns(header);
        header.forEach((h, i) => {
          if (!indexOfColumn.has(h)) indexOfColumn.set(h, i);
        });
        continue;
      }
      if (!headerUsable && header.length === 0) continue; // the header was refused; it covers every row
      if (rec.record.length !== header.length) {
        yield { diagnostic: errorAt({ file, line: start, column: 1 }, `row has ${rec.record.length} fields but the header has ${header.length}`) };
        continue;
      }
      if (!headerUsable) continue; // the header error above covers every row
      const values: Record<string, unknown> = {};
      header.forEach((h, i) => (values[h] = rec.record[i]));
      const { item, diagnostics } = genericRowToItem({
        file,
        line: start,
        values,
        columnOf: (f) => columnOfIndex(indexOfColumn.get(f) ?? -1),
        choiceCols,
      });
      for (const diagnostic of diagnostics) yield { diagnostic };
      if (!item) continue;
      const dup = ids.check(item.id, start);
      if (dup) {
        yield { diagnostic: errorAt({ file, line: start, column: columnOfIndex(indexOfColumn.get('id') ?? -1) }, dup, 'id') };
        continue;
      }
      yield { item };
    }
  } finally {
    source.destroy();
    parser.destroy();
  }
  for (const diagnostic of side.splice(0)) yield { diagnostic };
}
