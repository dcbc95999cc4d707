import type { Diagnostic } from '../model/item';
import { errorAt } from './diagnostics';
import { locateJsonError } from './jsonError';
import type { PhysicalLine } from './lines';

export interface JsonObjectRow {
  line: number;
  text: string;
  value: Record<string, unknown>;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns physical lines into JSON objects. Whitespace-only lines are not data and are passed over; every other line
 * becomes an object or an error diagnostic.
 */
export async function* jsonObjectRows(
  file: string,
  lines: AsyncIterable<PhysicalLine>,
): AsyncGenerator<JsonObjectRow | { diagnostic: Diagnostic }> {
  for await (const l of lines) {
    if (l.text.trim() === '') continue;
    if (l.badUtf8Column !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: l.badUtf8Column }, 'invalid UTF-8 byte sequence; the line was not read') };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (e) {
      const where = locateJsonError(l.text);
      const message = where?.message ?? (e instanceof Error ? e.message : String(e));
      yield { diagnostic: errorAt({ file, line: l.line, column: (where?.index ?? 0) + 1 }, `invalid JSON: ${message}`) };
      continue;
    }
    if (!isPlainObject(value)) {
      const col = l.text.length - l.text.trimStart().length + 1;
      yield { diagnostic: errorAt({ file, line: l.line, column: col }, `expected a JSON object on each line, got ${typeName(value)}`) };
      continue;
    }
    yield { line: l.line, text: l.text, value };
  }
}
