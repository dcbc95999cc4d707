import { afterEach, describe, expect, it, vi } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { backoffDelayMs, callWithRetry, Cooldown, DEFAULT_RETRY_POLICY, retryDelayFor, withDeadline } from '../../src/core/runner/retry';

const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: 3 };

describe('retry policy', () => {
  it('doubles from 0.5 s up to 8 s with at most 25 % jitter down', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(500);
    expect(backoffDelayMs(2, policy, () => 0)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(2000);
    expect(backoffDelayMs(10, policy, () => 0)).toBe(8000);
    expect(backoffDelayMs(1, policy, () => 1)).toBe(375);
  });

  it('honours retry-after, but not beyond the cap, and never retries non-retryable errors', () => {
    const r429 = new SclabError('rate_limit', 'slow down', { retryable: true, retryAfterMs: 3000 });
    expect(retryDelayFor(r429, 1, policy)).toBe(3000);
    const huge = new SclabError('rate_limit', 'slow down', { retryable: true, retryAfterMs: 3_600_000 });
    expect(retryDelayFor(huge, 1, policy, () => 0)).toBe(500);
    expect(retryDelayFor(new SclabError('bad_request', 'no'), 1, policy)).toBeNull();
    expect(retryDelayFor(new Error('plain'), 1, policy)).toBeNull();
    expect(retryDelayFor(r429, 4, policy)).toBeNull();
  });
});

describe('callWithRetry', () => {
  afterEach(() => vi.useRealTimers());

  it('retries retryable failures and reports the attempts', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const p = callWithRetry(
      async () => {
        calls++;
        if (calls < 3) throw new SclabError('server', 'HTTP 503', { retryable: true, status: 503 });
        return 'ok';
      },
      { policy, timeoutMs: 10_000, random: () => 0 },
    );
    await vi.advanceTimersByTimeAsync(500 + 1000);
    await expect(p).resolves.toEqual({ value: 'ok', attempts: 3 });
  });

  it('gives up after maxRetries with the last error and its attempt count', async () => {
    vi.useFakeTimers();
    const p = callWithRetry(
      async () => {
        throw new SclabError('server', 'HTTP 500', { retryable: true, status: 500 });
      },
      { policy, timeoutMs: 10_000, random: () => 0 },
    );
    const settled = expect(p).rejects.toMatchObject({ code: 'server', attempts: 4 });
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000);
    await settled;
  });

  it('cuts off a request that ignores its signal at the deadline, as a retryable timeout', async () => {
    vi.useFakeTimers();
    const p = withDeadline(() => new Promise<never>(() => undefined), 2000);
    const settled = expect(p).rejects.toMatchObject({ code: 'timeout', retryable: true });
    await vi.advanceTimersByTimeAsync(2000);
    await settled;
  });

  it('stops at once when the run is cancelled, even while waiting to retry', async () => {
    vi.useFakeTimers();
    const ac = new AbortController();
    const p = callWithRetry(
      async () => {
        throw new SclabError('server', 'HTTP 500', { retryable: true });
      },
      { policy, timeoutMs: 10_000, signal: ac.signal, random: () => 0 },
    );
    const settled = expect(p).rejects.toMatchObject({ code: 'cancelled' });
    await vi.advanceTimersByTimeAsync(100);
    ac.abort();
    await settled;
  });

  it('makes every caller wait out a 429 cooldown', async () => {
    vi.useFakeTimers();
    const cooldown = new Cooldown();
    cooldown.extend(5000);
    let sent = false;
    const p = callWithRetry(async () => {
      sent = true;
      return 1;
    }, { policy, timeoutMs: 10_000, cooldown });
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent).toBe(false);
    await vi.advanceTimersByTimeAsync(1001);
    await expect(p).resolves.toEqual({ value: 1, attempts: 1 });
  });
});
