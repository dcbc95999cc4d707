// The collection between a large job's phases (collect-garbage.ts): only after a large phase, really collecting, and
// without leaving `gc` on this process's global object.
import { describe, expect, it } from 'vitest';
import { collectAfterPhase, LARGE_PHASE_RECORDS } from '../../src/core/runner/collect-garbage';

describe('collectAfterPhase', () => {
  it('leaves a small phase to V8', () => {
    expect(collectAfterPhase(LARGE_PHASE_RECORDS - 1)).toBe(false);
  });

  it('collects after a large one: an unreachable object is gone, and gc stays unexposed', async () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc;
    let garbage: object | null = { payload: new Array(1000).fill(1) };
    const ref = new WeakRef(garbage);
    garbage = null;
    // a WeakRef keeps its target until the current job ends
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(collectAfterPhase(LARGE_PHASE_RECORDS)).toBe(true);
    expect(ref.deref()).toBeUndefined();
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(hadGc);
  });
});
