// A full garbage collection between the phases of a long job (the run's requests, then its analysis; reading a
// run's records, then analysing them). V8 collects its old generation when it has grown by a factor of what was
// live after the last collection, so a phase that ends with a large heap of garbage (a million records' requests,
// or a million parsed lines) leaves the next phase that much headroom before V8 looks again, and the process's peak
// is garbage on top of what the next phase holds. One collection at the boundary lets the next phase reuse that
// memory: at a million records it took the analysis's peak from ~250 to ~205 MB (bench:scale; see the README).
//
// Node exposes `gc` only under --expose-gc: set it for a fresh context, take that context's `gc`, then unset it
// (nothing else in this process sees it). Where that is not possible (no node:v8, a runtime that refuses the flag)
// this does nothing: V8 then collects on its own schedule, as before.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: (() => void) | null | undefined;

function findGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const found: unknown = vm.runInNewContext('gc');
    v8.setFlagsFromString('--no-expose-gc');
    return typeof found === 'function' ? (found as () => void) : null;
  } catch {
    return null;
  }
}

/** below this many records a phase's garbage is small beside the process, and a full collection not worth its pause
 * (in the extension host, whose heap other extensions share, a full collection takes a fraction of a second) */
export const LARGE_PHASE_RECORDS = 50_000;

/**
 * Collects the garbage of a phase that has just ended, when it handled at least LARGE_PHASE_RECORDS records (see the
 * top of this file); true when it collected.
 */
export function collectAfterPhase(records: number): boolean {
  if (records < LARGE_PHASE_RECORDS) return false;
  if (gc === undefined) gc = findGc();
  gc?.();
  return gc !== null;
}
