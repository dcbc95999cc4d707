import { createHash } from 'node:crypto';
import type { Diagnostic, Item } from '../model/item';
import { isSclabError } from '../model/errors';
import { DatasetFileError, errorAt, warningAt } from './diagnostics';
import { resolveFormat } from './detect';
import { readLines } from './lines';
import type { PhysicalLine } from './lines';
import { readBbqAmbigTsv } from './readers/bbqAmbigTsv';
import { readBbqJsonl } from './readers/bbqJsonl';
import { readGenericDelimited } from './readers/genericCsv';
import { readGenericJsonl } from './readers/genericJsonl';
import { readRtpJsonl } from './readers/rtpJsonl';
import { readWinogenderSentences } from './readers/winogenderSentences';
import { readWinogenderTemplates } from './readers/winogenderTemplates';
import type { DatasetEvent, DatasetFormat, LoadedDataset, ReadOptions, ValidationReport } from './types';

export type { DatasetEvent, DatasetFormat, LoadedDataset, ReadOptions, RequestedFormat, ValidationReport } from './types';
export { DATASET_FORMATS } from './types';
export { detectFormat, resolveFormat } from './detect';
export { applyFilter, itemMatches, itemValue } from './filter';
export type { ItemFilter } from './filter';
export { DatasetFileError } from './diagnostics';

/** a dataset line longer than this is refused, not read: memory follows the longest line (16 MiB) */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

function readerFor(
  format: DatasetFormat,
  file: string,
  lines: AsyncIterable<PhysicalLine>,
  signal: AbortSignal | undefined,
): AsyncGenerator<DatasetEvent> {
  switch (format) {
    case 'bbq-jsonl':
      return readBbqJsonl(file, lines);
    case 'bbq-ambig-tsv':
      return readBbqAmbigTsv(file, lines);
    case 'winogender-templates':
      return readWinogenderTemplates(file, lines, signal);
    case 'winogender-sentences':
      return readWinogenderSentences(file, lines, signal);
    case 'rtp-jsonl':
      return readRtpJsonl(file, lines);
    case 'generic-jsonl':
      return readGenericJsonl(file, lines);
    case 'generic-csv':
      return readGenericDelimited(file, lines, ',', signal);
    case 'generic-tsv':
      return readGenericDelimited(file, lines, '\t', signal);
  }
}

async function* readResolved(
  file: string,
  format: DatasetFormat,
  signal: AbortSignal | undefined,
  onChunk?: (chunk: Buffer) => void,
): AsyncGenerator<DatasetEvent> {
  let content = false;
  const overlong: Diagnostic[] = [];
  async function* watched(): AsyncGenerator<PhysicalLine> {
    for await (const l of readLines(file, { signal, onChunk, maxLineBytes: MAX_LINE_BYTES })) {
      if (l.text.trim() !== '' || l.overlongBytes !== undefined) content = true;
      if (l.overlongBytes !== undefined) {
        overlong.push(errorAt({ file, line: l.line, column: 1 }, `line is ${l.overlongBytes} bytes long; lines over ${MAX_LINE_BYTES} bytes are not read (is this a dataset file?)`));
      }
      yield l;
    }
  }
  let events = 0;
  for await (const ev of readerFor(format, file, watched(), signal)) {
    for (const diagnostic of overlong.splice(0)) yield { diagnostic };
    events++;
    yield ev;
  }
  for (const diagnostic of overlong.splice(0)) {
    events++;
    yield { diagnostic };
  }
  if (!content) yield { diagnostic: errorAt({ file, line: 1, column: 1 }, 'file is empty') };
  else if (events === 0) yield { diagnostic: warningAt({ file, line: 1, column: 1 }, 'no data rows') };
}

/**
 * Streams a dataset file as items and diagnostics, row by row. Every non-blank row yields an item or at least one
 * error diagnostic. Throws SclabError('dataset') when the file is missing, a directory, unreadable, empty (with
 * auto-detection) or of an undetectable format; SclabError('cancelled') when the signal fires.
 */
export async function* readDataset(path: string, opts: ReadOptions = {}): AsyncGenerator<DatasetEvent> {
  const format = await resolveFormat(path, opts.format ?? 'auto');
  yield* readResolved(path, format, opts.signal);
}

/** Reads a whole dataset into memory, hashing the file's bytes on the way. */
export async function loadDataset(path: string, opts: ReadOptions = {}): Promise<LoadedDataset> {
  const items: Item[] = [];
  const read = await foldDataset(path, (item) => void items.push(item), opts);
  return { ...read, items };
}

/**
 * Streams a dataset's items, in order, to `take` (awaited before the next is read), hashing the file's bytes on the
 * way; keeps nothing of the items (a run writes them to its items.jsonl as they come).
 */
export async function foldDataset(path: string, take: (item: Item) => void | Promise<void>, opts: ReadOptions = {}): Promise<Omit<LoadedDataset, 'items'>> {
  const format = await resolveFormat(path, opts.format ?? 'auto');
  const hash = createHash('sha256');
  const diagnostics: Diagnostic[] = [];
  for await (const ev of readResolved(path, format, opts.signal, (c) => hash.update(c))) {
    if ('item' in ev) await take(ev.item);
    else diagnostics.push(ev.diagnostic);
  }
  return { path, format, sha256: hash.digest('hex'), diagnostics };
}

/** Checks a dataset without keeping its items; whole-file problems become a diagnostic instead of an exception. */
export async function validateDataset(path: string, opts: ReadOptions = {}): Promise<ValidationReport> {
  const report: ValidationReport = { format: null, items: 0, mcq: 0, generation: 0, diagnostics: [] };
  try {
    report.format = await resolveFormat(path, opts.format ?? 'auto');
    for await (const ev of readResolved(path, report.format, opts.signal)) {
      if ('item' in ev) {
        report.items++;
        if (ev.item.kind === 'mcq') report.mcq++;
        else report.generation++;
      } else report.diagnostics.push(ev.diagnostic);
    }
  } catch (e) {
    if (e instanceof DatasetFileError) report.diagnostics.push(errorAt({ file: path, line: 1, column: 1 }, e.reason));
    else if (isSclabError(e) && e.code === 'dataset') report.diagnostics.push(errorAt({ file: path, line: 1, column: 1 }, e.message));
    else throw e;
  }
  return report;
}
