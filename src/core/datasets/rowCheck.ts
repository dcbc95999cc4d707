import type { Diagnostic } from '../model/item';
import { errorAt, warningAt } from './diagnostics';
import { isPlainObject, typeName } from './jsonl';

/**
 * Collects the problems of one row. Getters return undefined (and record an error) when a field is missing or of the
 * wrong type, so a reader can check every field before deciding the row is unusable.
 */
export class RowCheck {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly file: string,
    readonly line: number,
    /** 1-based column where a field's text starts in the row, for messages */
    readonly columnOf: (field: string) => number = () => 1,
  ) {}

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  error(field: string | undefined, message: string, column?: number): void {
    this.diagnostics.push(errorAt(this.file, this.line, column ?? (field ? this.columnOf(field.split('.')[0]!) : 1), message, field));
  }

  warn(field: string | undefined, message: string, column?: number): void {
    this.diagnostics.push(warningAt(this.file, this.line, column ?? (field ? this.columnOf(field.split('.')[0]!) : 1), message, field));
  }

  private take(obj: Record<string, unknown>, key: string, path: string, want: string, ok: (v: unknown) => boolean): unknown {
    if (!(key in obj) || obj[key] === undefined) {
      this.error(path, `missing field '${path}'`);
      return undefined;
    }
    const v = obj[key];
    if (!ok(v)) {
      this.error(path, `field '${path}' must be ${want}, got ${typeName(v)}${typeof v === 'number' || typeof v === 'boolean' ? ` ${String(v)}` : ''}`);
      return undefined;
    }
    return v;
  }

  string(obj: Record<string, unknown>, key: string, path = key): string | undefined {
    return this.take(obj, key, path, 'a string', (v) => typeof v === 'string') as string | undefined;
  }

  int(obj: Record<string, unknown>, key: string, path = key): number | undefined {
    return this.take(obj, key, path, 'an integer', (v) => typeof v === 'number' && Number.isInteger(v)) as number | undefined;
  }

  bool(obj: Record<string, unknown>, key: string, path = key): boolean | undefined {
    return this.take(obj, key, path, 'true or false', (v) => typeof v === 'boolean') as boolean | undefined;
  }

  object(obj: Record<string, unknown>, key: string, path = key): Record<string, unknown> | undefined {
    return this.take(obj, key, path, 'an object', isPlainObject) as Record<string, unknown> | undefined;
  }

  stringArray(obj: Record<string, unknown>, key: string, path = key): string[] | undefined {
    return this.take(obj, key, path, 'an array of strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')) as
      | string[]
      | undefined;
  }

  /** a score in the data: a number, or null where the source had none */
  score(obj: Record<string, unknown>, key: string, path = key): number | null | undefined {
    return this.take(obj, key, path, 'a number or null', (v) => v === null || (typeof v === 'number' && Number.isFinite(v))) as
      | number
      | null
      | undefined;
  }

  oneOf<T extends string>(obj: Record<string, unknown>, key: string, allowed: readonly T[], path = key): T | undefined {
    const v = this.string(obj, key, path);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      this.error(path, `field '${path}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${v}'`);
      return undefined;
    }
    return v as T;
  }
}
