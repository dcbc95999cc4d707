import type { Diagnostic } from '../model/item';
import { SclabError } from '../model/errors';

/** Where in a dataset file a problem is: 1-based line and column. */
export type Place = Pick<Diagnostic, 'file' | 'line' | 'column'>;

export function errorAt({ file, line, column }: Place, message: string, field?: string): Diagnostic {
  return field === undefined
    ? { file, line, column, severity: 'error', message }
    : { file, line, column, severity: 'error', message, field };
}

export function warningAt({ file, line, column }: Place, message: string, field?: string): Diagnostic {
  return field === undefined
    ? { file, line, column, severity: 'warning', message }
    : { file, line, column, severity: 'warning', message, field };
}

/** A whole-file problem (missing, unreadable, empty, undetectable): the message names the file first. */
export class DatasetFileError extends SclabError {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string, cause?: unknown) {
    super('dataset', `${file}: ${reason}`, cause === undefined ? {} : { cause });
    this.file = file;
    this.reason = reason;
  }
}

/** Human words for the file-system errors a reader meets. */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return `cannot read file (${typeof code === 'string' ? code : e instanceof Error ? e.message : String(e)})`;
  }
}
