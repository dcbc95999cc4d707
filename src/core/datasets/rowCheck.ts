import type { Diagnostic } from '../model/item';
import { errorAt, warningAt } from './diagnostics';
import { isPlainObject, typeName } from './jsonl';

/**
 * Collects the problems of one row. Getters return undefined (and record an error) when a field is missing or of the
 * wrong type, so a reader can check every field before deciding the row is unusable.
 */
/** What a field must be: in words for the message, and as a check. */
interface FieldKind<T> {
  want: string;
  is: (v: unknown) => v is T;
}

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
    this.diagnostics.push(errorAt({ file: this.file, line: this.line, column: column ?? (field ? this.columnOf(field.split('.')[0]!) : 1) }, message, field));
  }

  warn(field: string | undefined, message: string, column?: number): void {
    this.diagnostics.push(warningAt({ file: this.file, line: this.line, column: column ?? (field ? this.columnOf(field.split('.')[0]!) : 1) }, message, field));
  }

  private take<T>(obj: Record<string, unknown>, key: string, path: string, kind: FieldKind<T>): T | undefined {
    if (!(key in obj) || obj[key] === undefined) {
      this.error(path, `missing field '${path}'`);
      return undefined;
    }
    const v = obj[key];
    if (!kind.is(v)) {
      this.error(path, `field '${path}' must be ${kind.want}, got ${typeName(v)}${typeof v === 'number' || typeof v === 'boolean' ? ` ${String(v)}` : ''}`);
      return undefined;
    }
    return v;
  }

  string(obj: Record<string, unknown>, key: string, path = key): string | undefined {
    return this.take(obj, key, path, { want: 'a string', is: (v): v is string => typeof v === 'string' });
  }

  int(obj: Record<string, unknown>, key: string, path = key): number | undefined {
    return this.take(obj, key, path, { want: 'an integer', is: (v): v is number => typeof v === 'number' && Number.isInteger(v) });
  }

  bool(obj: Record<string, unknown>, key: string, path = key): boolean | undefined {
    return this.take(obj, key, path, { want: 'true or false', is: (v): v is boolean => typeof v === 'boolean' });
  }

  object(obj: Record<string, unknown>, key: string, path = key): Record<string, unknown> | undefined {
    return this.take(obj, key, path, { want: 'an object', is: isPlainObject });
  }

  stringArray(obj: Record<string, unknown>, key: string, path = key): string[] | undefined {
    return this.take(obj, key, path, { want: 'an array of strings', is: (v): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string') });
  }

  /** a score in the data: a number, or null where the source had none */
  score(obj: Record<string, unknown>, key: string, path = key): number | null | undefined {
    return this.take(obj, key, path, { want: 'a number or null', is: (v): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v)) });
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
