// Labelled texts for probe training, and statements for a direction: read from CSV (RFC 4180, quoted newlines),
// JSONL, or plain text (one statement per line). Every bad row is an error naming the file, line and field.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { SclabError } from '../model/errors';

export type LabelledFormat = 'csv' | 'jsonl' | 'lines';

export interface LabelledText {
  text: string;
  /** 1 = positive (e.g. toxic) */
  label: 0 | 1;
  /** 1-based line where the row starts */
  line: number;
}

export interface LabelledFile {
  file: string;
  sha256: string;
  format: LabelledFormat;
  rows: LabelledText[];
}

export function formatOf(file: string): LabelledFormat {
  const f = file.toLowerCase();
  if (f.endsWith('.csv')) return 'csv';
  if (f.endsWith('.jsonl') || f.endsWith('.ndjson')) return 'jsonl';
  return 'lines';
}

async function readBytes(file: string): Promise<{ text: string; sha256: string }> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new SclabError('dataset', `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { text: buf.toString('utf8').replace(/^\uFEFF/, ''), sha256: createHash('sha256').update(buf).digest('hex') };
}

function records(file: string, format: LabelledFormat, text: string): Array<{ row: Record<string, unknown>; line: number }> {
  if (format === 'csv') {
    let rows: Array<{ record: Record<string, string>; info: { lines: number } }>;
    try {
      rows = parse(text, { columns: true, skip_empty_lines: true, info: true }) as typeof rows;
    } catch (e) {
      throw new SclabError('dataset', `${file}: not valid CSV: ${(e as Error).message}`);
    }
    // info.lines is the line where the record ends; the record starts after the previous one ended
    let prevEnd = 1;
    return rows.map(({ record, info }) => {
      const start = prevEnd + 1;
      prevEnd = info.lines;
      return { row: record, line: start };
    });
  }
  const out: Array<{ row: Record<string, unknown>; line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.replace(/\r$/, '');
    if (s.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new SclabError('dataset', `${file}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SclabError('dataset', `${file}:${i + 1}: expected a JSON object`);
    out.push({ row: v as Record<string, unknown>, line: i + 1 });
  });
  return out;
}

/**
 * Reads texts and binary labels: the label field's value (as a string, trimmed) is positive when it is one of
 * `positive`, negative otherwise (Davidson: --positive 0 1 makes hate speech and offensive toxic, 2 non-toxic).
 */
export async function readLabelledTexts(file: string, opts: { textField: string; labelField: string; positive: string[] }): Promise<LabelledFile> {
  const format = formatOf(file);
  if (format === 'lines') throw new SclabError('config', `${file}: labelled training data must be .csv or .jsonl (a plain text file is read only as statements)`);
  const { text, sha256 } = await readBytes(file);
  const recs = records(file, format, text);
  if (recs.length === 0) throw new SclabError('dataset', `${file}: no data rows`);
  const first = recs[0]!.row;
  for (const f of [opts.textField, opts.labelField]) {
    if (!(f in first)) throw new SclabError('config', `${file}: no field "${f}"; the fields are: ${Object.keys(first).map((k) => JSON.stringify(k)).join(', ')}`);
  }
  const positive = new Set(opts.positive.map((p) => p.trim()));
  const rows = recs.map(({ row, line }): LabelledText => {
    const t = row[opts.textField];
    const l = row[opts.labelField];
    if (typeof t !== 'string' || t.trim() === '') throw new SclabError('dataset', `${file}:${line}: field "${opts.textField}" is ${t === undefined ? 'missing' : 'empty or not text'}`);
    if (l === undefined || l === null || (typeof l === 'string' && l.trim() === '')) throw new SclabError('dataset', `${file}:${line}: field "${opts.labelField}" is missing or empty`);
    if (typeof l === 'object') throw new SclabError('dataset', `${file}:${line}: field "${opts.labelField}" is not a single value`);
    return { text: t, label: positive.has(String(l).trim()) ? 1 : 0, line };
  });
  const nPos = rows.filter((r) => r.label === 1).length;
  if (nPos === 0 || nPos === rows.length) {
    const values = [...new Set(recs.map((r) => String(r.row[opts.labelField]).trim()))].slice(0, 10);
    throw new SclabError('config', (w) => `${file}: every row is ${nPos === 0 ? 'negative' : 'positive'} with ${w.positiveLabels} ${[...positive].join(' ')}; field "${opts.labelField}" takes the values ${values.join(', ')}`);
  }
  return { file, sha256, format, rows };
}

/** Statements for a direction: one per line in a text file (blank lines and lines starting with # are comments),
 * or the text field of a CSV/JSONL file. */
export async function readStatements(file: string, textField?: string): Promise<{ file: string; sha256: string; format: LabelledFormat; texts: string[] }> {
  const format = formatOf(file);
  const { text, sha256 } = await readBytes(file);
  let texts: string[];
  if (format === 'lines') {
    texts = text
      .split('\n')
      .map((s) => s.replace(/\r$/, '').trim())
      .filter((s) => s !== '' && !s.startsWith('#'));
  } else {
    if (!textField) throw new SclabError('config', (w) => `${file}: give ${w.textField} to read statements from a ${format} file`);
    texts = records(file, format, text).map(({ row, line }) => {
      const t = row[textField];
      if (typeof t !== 'string' || t.trim() === '') throw new SclabError('dataset', `${file}:${line}: field "${textField}" is missing, empty or not text`);
      return t;
    });
  }
  if (texts.length === 0) throw new SclabError('dataset', `${file}: no statements`);
  return { file, sha256, format, texts };
}
