import { afterEach, describe, expect, it, vi } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, retryDelayFor, withDeadline } from '../../src/core/runner/retry';
import { AdaptiveScheduler, trackRequests, type RequestTally } from '../../src/core/runner/scheduler';

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

describe('retry through the request scheduler', () => {
  afterEach(() => vi.useRealTimers());
  const scheduler = () => new AdaptiveScheduler({ concurrency: 4, adaptive: false }, { retry: policy, random: () => 0 });

  it('retries retryable failures and counts the attempts', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const tally: RequestTally[] = [];
    const p = trackRequests(tally, () =>
      scheduler().request({
        what: 'POST /x',
        send: async () => {
          calls++;
          if (calls < 3) throw new SclabError('server', 'HTTP 503', { retryable: true, status: 503 });
          return 'ok';
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(500 + 1000);
    await expect(p).resolves.toBe('ok');
    expect(tally).toEqual([{ request: 'POST /x', attempts: 3 }]);
  });

  it('gives up after maxRetries with the last error and its attempt count', async () => {
    vi.useFakeTimers();
    const p = scheduler().request({
      what: 'POST /x',
      send: async () => {
        throw new SclabError('server', 'HTTP 500', { retryable: true, status: 500 });
      },
    });
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
    const p = scheduler().request({
      what: 'POST /x',
      signal: ac.signal,
      send: async () => {
        throw new SclabError('server', 'HTTP 500', { retryable: true });
      },
    });
    const settled = expect(p).rejects.toMatchObject({ code: 'cancelled' });
    await vi.advanceTimersByTimeAsync(100);
    ac.abort();
    await settled;
  });
});
