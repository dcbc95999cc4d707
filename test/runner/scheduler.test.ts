// The request scheduler against a simulated server on a virtual clock: slots, AIMD on 429, per-minute budgets,
// x-ratelimit-* headers and pauses, measured in virtual time (no wall-clock timing is asserted).
import { describe, expect, it } from 'vitest';
import { RetryExhausted, SclabError } from '../../src/core/model/errors';
import { DEFAULT_RETRY_POLICY } from '../../src/core/runner/retry';
import { AdaptiveScheduler, parseResetDuration, trackRequests, type RequestLimits, type RequestTally } from '../../src/core/runner/scheduler';
import { VirtualClock } from '../support/virtual-clock';

const retry = { ...DEFAULT_RETRY_POLICY, maxRetries: 8 };

interface SimOptions {
  /** 429 for a request that arrives while this many are being answered */
  capacity?: number;
  latencyMs?: number;
  retryAfterMs?: number;
  /** a fixed window budget, like a hosted API's requests per minute */
  perWindow?: number;
  windowMs?: number;
  /** send x-ratelimit-* headers of the window */
  headers?: boolean;
  tokensUsed?: number;
}

/** A server that lives on the virtual clock; it records when each accepted request started. */
function simulatedServer(clock: VirtualClock, o: SimOptions) {
  let inFlight = 0;
  let windowStart = 0;
  let windowCount = 0;
  const stats = { arrived: 0, refused: 0, peak: 0, starts: [] as number[] };
  const send = async (scheduler: AdaptiveScheduler): Promise<{ usage: { total_tokens: number } }> => {
    stats.arrived++;
    const windowMs = o.windowMs ?? 60_000;
    if (clock.now() - windowStart >= windowMs) {
      windowStart = clock.now() - ((clock.now() - windowStart) % windowMs);
      windowCount = 0;
    }
    const reset = windowStart + windowMs - clock.now();
    // like a real server, the numbers of the window as they stand when the answer leaves
    const headers = () =>
      o.headers && o.perWindow !== undefined
        ? scheduler.observeHeaders(new Headers({ 'x-ratelimit-remaining-requests': String(o.perWindow - windowCount), 'x-ratelimit-reset-requests': `${windowStart + windowMs - clock.now()}ms` }))
        : undefined;
    const refuse = (retryAfterMs: number) => {
      stats.refused++;
      headers();
      throw new SclabError('rate_limit', 'HTTP 429', { retryable: true, retryAfterMs, status: 429 });
    };
    if (o.capacity !== undefined && inFlight >= o.capacity) refuse(o.retryAfterMs ?? 100);
    if (o.perWindow !== undefined) {
      if (windowCount >= o.perWindow) refuse(reset);
      windowCount++;
    }
    inFlight++;
    stats.peak = Math.max(stats.peak, inFlight);
    stats.starts.push(clock.now());
    await clock.sleep(o.latencyMs ?? 50);
    inFlight--;
    headers();
    return { usage: { total_tokens: o.tokensUsed ?? 10 } };
  };
  return { send, stats };
}

/** `chains` workers share `total` requests, each worker one request at a time (like a run's chains). */
async function drive(limits: RequestLimits, sim: SimOptions, total: number, chains: number, estimatedTokens: number | (() => number) = 10) {
  const clock = new VirtualClock();
  const scheduler = new AdaptiveScheduler(limits, { retry, clock, random: () => 0 });
  const server = simulatedServer(clock, sim);
  let next = 0;
  let failed = 0;
  const work = Promise.all(
    Array.from({ length: chains }, async () => {
      while (next++ < total) {
        try {
          await scheduler.request({ what: 'POST /x', estimatedTokens, send: () => server.send(scheduler), usedTokens: (v) => v.usage.total_tokens });
        } catch {
          failed++;
        }
      }
    }),
  );
  await clock.run(work);
  return { clock, scheduler, server: server.stats, failed, elapsed: clock.now() };
}

describe('request scheduler', () => {
  it('finds a server\'s in-flight capacity: concurrency 64 against 8 allowed, at most 2 % refused, no failures, time within 1.10× of a fixed limit of 8', async () => {
    const adaptive = await drive({ concurrency: 64 }, { capacity: 8, latencyMs: 50, retryAfterMs: 50 }, 2000, 64);
    const fixed = await drive({ concurrency: 8, adaptive: false }, { capacity: 8, latencyMs: 50 }, 2000, 64);
    expect(adaptive.failed).toBe(0);
    expect(fixed.server.refused).toBe(0);
    expect(adaptive.server.refused / adaptive.server.arrived).toBeLessThanOrEqual(0.02);
    expect(adaptive.elapsed / fixed.elapsed).toBeLessThanOrEqual(1.1);
    expect(adaptive.scheduler.stats().limit).toBeGreaterThanOrEqual(4);
    expect(adaptive.scheduler.stats().limit).toBeLessThanOrEqual(9);
    expect(adaptive.scheduler.summary()).toMatch(/answered 429; concurrency 64 \(adaptive\); in-flight limit over time \(s: limit\): 0\.0: 1, /);
  });

  it('keeps a fixed limit exactly, whatever the number of callers', async () => {
    const r = await drive({ concurrency: 4, adaptive: false }, { latencyMs: 20 }, 200, 50);
    expect(r.server.peak).toBe(4);
    // 200 requests, 4 at a time, 20 ms each
    expect(r.elapsed).toBe(1000);
  });

  it('grows to the configured concurrency against a server without limits (slow start) and never beyond it', async () => {
    const r = await drive({ concurrency: 16 }, { latencyMs: 20 }, 1000, 40);
    expect(r.server.peak).toBe(16);
    expect(r.scheduler.stats().limit).toBe(16);
    expect(r.server.refused).toBe(0);
  });

  it('--max-rpm 600: the measured rate stays within 5 % of it', async () => {
    const r = await drive({ concurrency: 32, maxRpm: 600 }, { latencyMs: 50 }, 600, 32);
    const starts = r.server.starts;
    const rate = ((starts.length - 1) * 60_000) / (starts[starts.length - 1]! - starts[0]!);
    expect(Math.abs(rate - 600) / 600).toBeLessThanOrEqual(0.05);
    // no minute holds more than the budget plus one second's burst
    for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 60_000).length).toBeLessThanOrEqual(610);
  });

  it('--max-tpm counts tokens from the server\'s usage: an estimate of 100 corrected to 50 used lets twice as many requests go', async () => {
    const r = await drive({ concurrency: 32, maxTpm: 30_000 }, { latencyMs: 50, tokensUsed: 50 }, 600, 32, 100);
    const starts = r.server.starts;
    const tokensPerMinute = ((starts.length - 1) * 50 * 60_000) / (starts[starts.length - 1]! - starts[0]!);
    expect(Math.abs(tokensPerMinute - 30_000) / 30_000).toBeLessThanOrEqual(0.05);
  });

  it('a token estimate given as a function is worked out only for a token budget, once a request, with the same pacing', async () => {
    let calls = 0;
    const estimate = () => (calls++, 100);
    await drive({ concurrency: 8 }, { latencyMs: 10 }, 100, 8, estimate);
    expect(calls).toBe(0);
    const lazy = await drive({ concurrency: 32, maxTpm: 30_000 }, { latencyMs: 50, tokensUsed: 50 }, 300, 32, estimate);
    expect(calls).toBe(300);
    const eager = await drive({ concurrency: 32, maxTpm: 30_000 }, { latencyMs: 50, tokensUsed: 50 }, 300, 32, 100);
    expect(lazy.server.starts).toEqual(eager.server.starts);
  });

  it('reads x-ratelimit-* headers and waits for the reset instead of running into 429', async () => {
    const sim = { latencyMs: 20, perWindow: 50, windowMs: 10_000, headers: true };
    const withHeaders = await drive({ concurrency: 8 }, sim, 300, 8);
    expect(withHeaders.failed).toBe(0);
    expect(withHeaders.server.refused).toBe(0);
    // 300 requests at 50 per 10 s window: the sixth window, and not a second more
    expect(withHeaders.elapsed).toBeLessThan(51_000);
    const blind = await drive({ concurrency: 8 }, { ...sim, headers: false }, 300, 8);
    expect(blind.server.refused).toBeGreaterThan(0);
  });

  it('honours a pause: after a 429 with retry-after nothing is sent until it has passed', async () => {
    const clock = new VirtualClock();
    const scheduler = new AdaptiveScheduler({ concurrency: 4, adaptive: false }, { retry, clock });
    const sent: number[] = [];
    let refusedOnce = false;
    const send = async () => {
      sent.push(clock.now());
      if (!refusedOnce && clock.now() >= 100) {
        refusedOnce = true;
        throw new SclabError('rate_limit', 'HTTP 429', { retryable: true, retryAfterMs: 1000, status: 429 });
      }
      await clock.sleep(50);
      return 1;
    };
    const tally: RequestTally[] = [];
    await clock.run(trackRequests(tally, () => Promise.all(Array.from({ length: 40 }, () => scheduler.request({ what: 'POST /y', send })))));
    expect(sent.filter((t) => t > 100 && t < 1100)).toEqual([]);
    expect(tally).toHaveLength(40);
    expect(tally.filter((t) => t.attempts === 2)).toHaveLength(1);
  });

  it('gives up on a request after its retries, with the attempts on the error, and frees its slot', async () => {
    const clock = new VirtualClock();
    const scheduler = new AdaptiveScheduler({ concurrency: 1, adaptive: false }, { retry: { ...retry, maxRetries: 2, initialDelayMs: 10 }, clock, random: () => 0 });
    const failing = scheduler.request({ what: 'POST /z', send: async () => { throw new SclabError('server', 'HTTP 500', { retryable: true, status: 500 }); } });
    const err = await clock.run(failing.catch((e: unknown) => e));
    expect(err).toBeInstanceOf(RetryExhausted);
    expect(err).toMatchObject({ code: 'server', status: 500, message: 'HTTP 500', attempts: 3 });
    await expect(clock.run(scheduler.request({ what: 'POST /z', send: async () => 7 }))).resolves.toBe(7);
  });

  it('a request waiting for a slot stops on cancellation and leaves no slot taken', async () => {
    const clock = new VirtualClock();
    const scheduler = new AdaptiveScheduler({ concurrency: 1, adaptive: false }, { retry, clock });
    const stop = new AbortController();
    const first = scheduler.request({ what: 'a', send: () => clock.sleep(100).then(() => 1) });
    const second = scheduler.request({ what: 'b', signal: stop.signal, send: async () => 2 });
    stop.abort();
    await expect(second).rejects.toMatchObject({ code: 'cancelled' });
    await clock.run(first);
    await expect(clock.run(scheduler.request({ what: 'c', send: async () => 3 }))).resolves.toBe(3);
    expect(scheduler.stats().inFlight).toBe(0);
  });

  it('reads OpenAI\'s reset durations', () => {
    expect(parseResetDuration('1s')).toBe(1000);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('20ms')).toBe(20);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('2')).toBe(2000);
    expect(parseResetDuration('soon')).toBeUndefined();
    expect(parseResetDuration(null)).toBeUndefined();
  });
});
