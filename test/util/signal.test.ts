import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkSignal } from '../../src/core/util/signal';

describe('linked abort signals', () => {
  it('abort with their parent unless unlinked, on their own, or at once under an aborted parent', () => {
    const parent = new AbortController();
    const a = linkSignal(parent.signal);
    const b = linkSignal(parent.signal);
    const c = linkSignal(parent.signal);
    c.abort();
    expect([a.signal.aborted, b.signal.aborted, c.signal.aborted, parent.signal.aborted]).toEqual([false, false, true, false]);
    b.unlink();
    parent.abort();
    expect([a.signal.aborted, b.signal.aborted]).toEqual([true, false]);
    expect(linkSignal(parent.signal).signal.aborted).toBe(true);
    expect(linkSignal(undefined).signal.aborted).toBe(false);
  });

  it('hold one listener on a parent however many children come and go', () => {
    const parent = new AbortController();
    const links = Array.from({ length: 100 }, () => linkSignal(parent.signal));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    for (const l of links.slice(0, 99)) l.unlink();
    parent.abort();
    expect(links.filter((l) => l.signal.aborted)).toEqual([links[99]]);
  });
});
