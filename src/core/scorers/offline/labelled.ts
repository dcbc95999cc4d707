// Reads a labelled text file for training: CSV or TSV with a header row (RFC 4180 quoting, newlines inside quotes),
// or JSONL with one object per line (fields may be dotted paths, e.g. prompt.text). Every bad row is an error that
// names the file, the line and the field; nothing is skipped silently.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SclabError } from '../../model/errors';

export interface LabelledSpec {
  textField: string;
  labelField: string;
  /** label values that mean "positive" (toxic); all others are negative. Default: 1/true positive, 0/false negative */
  positive?: string[];
}

export interface LabelledRow {
  text: string;
  label: 0 | 1;
  /** 1-based line where the row starts */
  line: number;
}

function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  let v: unknown = obj;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function labelText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function labelOf(raw: unknown, spec: LabelledSpec, where: string): 0 | 1 {
  const v = labelText(raw);
  if (v === undefined) throw new SclabError('dataset', `${where}: field "${spec.labelField}" is missing or not a string, number or boolean`);
  if (spec.positive) return spec.positive.includes(v) ? 1 : 0;
  const low = v.toLowerCase();
  if (low === '1' || low === 'true') return 1;
  if (low === '0' || low === 'false') return 0;
  throw new SclabError('dataset', `${where}: label "${v.slice(0, 40)}" in "${spec.labelField}" is not 0/1/true/false; name the positive values with --positive`);
}

function toRow(obj: Record<string, unknown>, spec: LabelledSpec, file: string, line: number): LabelledRow {
  const where = `${file}:${line}`;
  const text = field(obj, spec.textField);
  if (typeof text !== 'string') throw new SclabError('dataset', `${where}: field "${spec.textField}" is missing or not text`);
  if (text.trim() === '') throw new SclabError('dataset', `${where}: field "${spec.textField}" is empty`);
  return { text, label: labelOf(field(obj, spec.labelField), spec, where), line };
}

function readDelimited(content: string, delimiter: string, spec: LabelledSpec, file: string): LabelledRow[] {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(content, { columns: true, delimiter, bom: true, info: true, skip_empty_lines: true }) as typeof records;
  } catch (e) {
    throw new SclabError('dataset', `${file}: not readable as ${delimiter === '\t' ? 'TSV' : 'CSV'}: ${(e as Error).message}`);
  }
  const first = records[0]?.record;
  if (first) {
    for (const f of [spec.textField, spec.labelField]) {
      if (!(f in first)) throw new SclabError('dataset', `${file}:1: no column "${f}" (columns: ${Object.keys(first).join(', ')})`);
    }
  }
  // info.lines is the line where the record ends; a record starts after the previous one ends
  let prevEnd = 1;
  return records.map(({ record, info }) => {
    const row = toRow(record, spec, file, prevEnd + 1);
    prevEnd = info.lines;
    return row;
  });
}

function readJsonl(content: string, spec: LabelledSpec, file: string): LabelledRow[] {
  const rows: LabelledRow[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new SclabError('dataset', `${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new SclabError('dataset', `${file}:${i + 1}: expected a JSON object`);
    rows.push(toRow(obj as Record<string, unknown>, spec, file, i + 1));
  }
  return rows;
}

/** Reads the rows and returns them with the file's bytes (for the provenance hash). */
export async function readLabelled(file: string, spec: LabelledSpec): Promise<{ rows: LabelledRow[]; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new SclabError('io', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const content = bytes.toString('utf8');
  const ext = path.extname(file).toLowerCase();
  const rows =
    ext === '.jsonl' || ext === '.ndjson'
      ? readJsonl(content, spec, file)
      : ext === '.csv' || ext === '.tsv'
        ? readDelimited(content, ext === '.tsv' ? '\t' : ',', spec, file)
        : (() => {
            throw new SclabError('dataset', `${file}: unknown file type "${ext}"; use .csv, .tsv or .jsonl`);
          })();
  if (rows.length === 0) throw new SclabError('dataset', `${file}: no rows`);
  return { rows, bytes };
}
