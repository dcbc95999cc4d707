import type { Diagnostic, Item } from '../model/item';
import { letterLabels } from '../model/item';
import { typeName } from './jsonl';
import { RowCheck } from './rowCheck';

/**
 * One row of a generic prompt file (JSONL object or CSV/TSV record) → an Item.
 *
 * Columns: `id` (optional; default the line number where the row starts), `question` or `prompt` (one required),
 * `context` (optional), choices as `choices` (JSON array; a JSON array string in CSV/TSV) or as lettered columns
 * `choice_a`, `choice_b`, … / `option_a`, … / `A`, `B`, …, and `answer` (0-based index, a letter such as a, "(b)", "C",
 * or the exact text of one choice). Every other column goes to `meta`. A row with choices is multiple choice.
 */

const LETTERED = [/^choice_([a-z])$/i, /^option_([a-z])$/i, /^([A-Z])$/];

/** The lettered choice columns of a header, in letter order, or null when there are none. */
export function choiceColumns(keys: string[]): string[] | null {
  for (const re of LETTERED) {
    const byLetter = new Map<number, string>();
    for (const k of keys) {
      const m = re.exec(k);
      if (m) byLetter.set(m[1]!.toLowerCase().charCodeAt(0) - 97, k);
    }
    if (byLetter.size >= 2 && byLetter.has(0)) {
      const out: string[] = [];
      for (let i = 0; byLetter.has(i); i++) out.push(byLetter.get(i)!);
      return out;
    }
  }
  return null;
}

export interface GenericRowInput {
  file: string;
  line: number;
  values: Record<string, unknown>;
  columnOf: (field: string) => number;
  /** lettered choice columns found in the header (CSV) or keys (JSONL) */
  choiceCols: string[] | null;
}

function textValue(c: RowCheck, values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    c.error(key, `field '${key}' must be a string, got ${typeName(v)}`);
    return undefined;
  }
  return v.trim() === '' ? undefined : v;
}

function readChoices(c: RowCheck, input: GenericRowInput): string[] | undefined {
  const { values } = input;
  let raw: unknown = values.choices;
  if (typeof raw === 'string') {
    const s = raw;
    if (s.trim() === '') raw = undefined;
    else {
      try {
        raw = JSON.parse(s);
      } catch {
        c.error('choices', `field 'choices' must be a JSON array of strings, e.g. ["yes","no"]; got "${s.slice(0, 40)}"`);
        return undefined;
      }
    }
  }
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) {
      c.error('choices', `field 'choices' must be an array of strings, got ${Array.isArray(raw) ? 'an array with non-strings' : typeName(raw)}`);
      return undefined;
    }
    return raw as string[];
  }
  if (!input.choiceCols) return undefined;
  const texts = input.choiceCols.map((k) => values[k]);
  // trailing empty cells mean "fewer options in this row"; a gap in the middle is an error
  let n = texts.length;
  while (n > 0 && (texts[n - 1] === undefined || texts[n - 1] === null || texts[n - 1] === '')) n--;
  if (n === 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = texts[i];
    const col = input.choiceCols[i]!;
    if (typeof v !== 'string' || v.trim() === '') {
      c.error(col, `choice column '${col}' is ${v === undefined || v === '' ? 'empty' : `a ${typeName(v)}`} while a later choice is filled`);
      return undefined;
    }
    out.push(v);
  }
  return out;
}

function readAnswer(c: RowCheck, raw: unknown, choices: string[]): number | undefined {
  const outside = (what: string) => c.error('answer', `answer ${what} is outside the ${choices.length} choices`);
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0) c.error('answer', `answer must be a 0-based index, a letter or a choice text, got ${raw}`);
    else if (raw >= choices.length) outside(String(raw));
    else return raw;
    return undefined;
  }
  if (typeof raw !== 'string') {
    c.error('answer', `answer must be a 0-based index, a letter or a choice text, got ${typeName(raw)}`);
    return undefined;
  }
  const s = raw.trim();
  if (/^\d+$/.test(s)) {
    const i = Number(s);
    if (i < choices.length) return i;
    outside(`"${s}"`);
    return undefined;
  }
  const letter = /^\(?([a-z])\)?$/i.exec(s);
  const letterIndex = letter ? letter[1]!.toLowerCase().charCodeAt(0) - 97 : -1;
  if (letter && letterIndex < choices.length) return letterIndex;
  // a one-letter choice text ("y") is still a valid answer when no letter fits
  const byText = choices.flatMap((ch, i) => (ch.trim().toLowerCase() === s.toLowerCase() ? [i] : []));
  if (byText.length === 1) return byText[0];
  if (letter) {
    outside(`"${s}"`);
    return undefined;
  }
  c.error('answer', `answer "${s.slice(0, 40)}" is not an index, a letter or the text of one of the ${choices.length} choices`);
  return undefined;
}

const CONSUMED = new Set(['id', 'question', 'prompt', 'context', 'choices', 'answer']);

export function genericRowToItem(input: GenericRowInput): { item?: Item; diagnostics: Diagnostic[] } {
  const { values, line } = input;
  const c = new RowCheck(input.file, line, input.columnOf);
  let id = String(line);
  const rawId = values.id;
  if (typeof rawId === 'string' && rawId.trim() !== '') id = rawId.trim();
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else if (rawId !== undefined && rawId !== null && rawId !== '') c.error('id', `field 'id' must be a string or a number, got ${typeName(rawId)}`);

  const question = textValue(c, values, 'question');
  const prompt = textValue(c, values, 'prompt');
  const context = textValue(c, values, 'context');
  if (question === undefined && prompt === undefined && !c.failed) {
    c.error(undefined, "row has neither a 'question' nor a 'prompt' (one is required)");
  }
  const choices = readChoices(c, input);
  if (choices && choices.length < 2) c.error('choices', `a multiple-choice row needs at least 2 choices, got ${choices.length}`);
  let answer: number | undefined;
  const rawAnswer = values.answer;
  const hasAnswer = rawAnswer !== undefined && rawAnswer !== null && rawAnswer !== '';
  if (choices && hasAnswer) answer = readAnswer(c, rawAnswer, choices);
  else if (choices && !c.failed) c.warn('answer', 'multiple-choice row without an answer: accuracy cannot be computed for it');
  if (c.failed) return { diagnostics: c.diagnostics };

  const fields: Record<string, string> = {};
  if (question !== undefined) fields.question = question;
  if (prompt !== undefined) fields.prompt = prompt;
  if (context !== undefined) fields.context = context;
  const skip = new Set([...CONSUMED, ...(choices && !('choices' in values && values.choices !== '') ? (input.choiceCols ?? []) : [])]);
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (!skip.has(k)) meta[k] = v;
  }
  if (!choices && hasAnswer) meta.answer = rawAnswer;
  const item: Item = choices
    ? {
        id,
        kind: 'mcq',
        source: { file: input.file, line },
        fields,
        choices,
        choiceLabels: letterLabels(choices.length),
        ...(answer !== undefined ? { answer } : {}),
        meta,
      }
    : { id, kind: 'generation', source: { file: input.file, line }, fields, meta };
  return { item, diagnostics: c.diagnostics };
}

/** Duplicate ids are errors; the second row is not used. */
export class IdRegistry {
  private readonly seen = new Map<string, number>();
  check(id: string, line: number): string | null {
    const first = this.seen.get(id);
    if (first !== undefined) return `duplicate id '${id}' (first at line ${first})`;
    this.seen.set(id, line);
    return null;
  }
}
