import { basename, extname } from 'node:path';
import { DatasetFileError } from './diagnostics';
import { isPlainObject } from './jsonl';
import { readLines } from './lines';
import { splitTabs } from './tsvLine';
import { headerMatches, SENTENCES_HEADER, TEMPLATES_HEADER } from './winogender';
import type { DatasetFormat, RequestedFormat } from './types';
import { DATASET_FORMATS } from './types';
import { parseGoldLetter, parseLetteredOptions } from './readers/bbqAmbigTsv';

const HEAD_BYTES = 64 * 1024;
const HEAD_LINES = 20;

function classifyJson(v: Record<string, unknown>): DatasetFormat {
  if ('example_id' in v && 'context_condition' in v && 'answer_info' in v) return 'bbq-jsonl';
  if (isPlainObject(v.prompt) && 'text' in v.prompt && ('continuation' in v || 'challenging' in v || 'filename' in v)) return 'rtp-jsonl';
  return 'generic-jsonl';
}

function genericByExtension(path: string): DatasetFormat | null {
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
    case '.json':
      return 'generic-jsonl';
    case '.csv':
      return 'generic-csv';
    case '.tsv':
    case '.tab':
      return 'generic-tsv';
    default:
      return null;
  }
}

/** Reads the first lines of a file (at most 64 KiB), skipping blank ones. */
async function head(path: string): Promise<string[]> {
  const out: string[] = [];
  let any = false;
  for await (const l of readLines(path, { maxBytes: HEAD_BYTES })) {
    any = true;
    if (l.text.trim() === '') continue;
    out.push(l.text);
    if (out.length >= HEAD_LINES) break;
  }
  if (!any || out.length === 0) throw new DatasetFileError(path, 'file is empty');
  return out;
}

/** Which reader a file needs, from its first lines and its name. */
export async function detectFormat(path: string): Promise<DatasetFormat> {
  const lines = await head(path);
  const first = lines[0]!;
  if (first.trimStart().startsWith('{')) {
    for (const l of lines) {
      try {
        const v: unknown = JSON.parse(l);
        if (isPlainObject(v)) return classifyJson(v);
      } catch {
        // a broken line: look at the next one; the reader reports it with its position
      }
    }
    return 'generic-jsonl';
  }
  const cells = splitTabs(first).cells;
  if (headerMatches(cells, TEMPLATES_HEADER)) return 'winogender-templates';
  if (headerMatches(cells, SENTENCES_HEADER)) return 'winogender-sentences';
  if (cells.length === 5 && parseLetteredOptions(cells[2]!) && parseGoldLetter(cells[3]!) !== null) return 'bbq-ambig-tsv';
  if (/^bbq\..+\.txt$/i.test(basename(path)) && cells.length >= 4) return 'bbq-ambig-tsv';
  const byExt = genericByExtension(path);
  if (byExt) return byExt;
  if (cells.length > 1) return 'generic-tsv';
  if (first.includes(',')) return 'generic-csv';
  throw new DatasetFileError(path, 'cannot tell the dataset format from its name or first lines; name the format explicitly');
}

/**
 * Resolve what a caller asked for into a concrete reader. 'generic' (the experiment file's word) picks among the
 * generic readers by extension, falling back to the content.
 */
export async function resolveFormat(path: string, requested: RequestedFormat = 'auto'): Promise<DatasetFormat> {
  if (requested === 'auto') return detectFormat(path);
  if (requested === 'generic') {
    const byExt = genericByExtension(path);
    if (byExt) return byExt;
    const detected = await detectFormat(path);
    return detected.startsWith('generic-') ? detected : detected === 'bbq-jsonl' || detected === 'rtp-jsonl' ? 'generic-jsonl' : 'generic-tsv';
  }
  if (!DATASET_FORMATS.includes(requested)) throw new DatasetFileError(path, `unknown dataset format '${String(requested)}'`);
  return requested;
}
