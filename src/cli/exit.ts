import { isSclabError, messageIn } from '../core/model/errors';
import { CLI_REMEDY_WORDS } from './remedy-words';

export const EXIT = { ok: 0, invalid: 1, failed: 2, cancelled: 130 } as const;

/** Prints an error the same way for every command and returns its exit code. */
export function reportFatal(err: unknown): number {
  if (isSclabError(err)) {
    process.stderr.write(`sclab: ${err.code}: ${messageIn(err, CLI_REMEDY_WORDS)}\n`);
    if (err.code === 'cancelled') return EXIT.cancelled;
    if (err.code === 'config' || err.code === 'dataset') return EXIT.invalid;
    return EXIT.failed;
  }
  process.stderr.write(`sclab: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.failed;
}
