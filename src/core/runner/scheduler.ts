// The run's request scheduler: every HTTP request of a run (chat, option scoring, label probabilities, probes) waits
// here for a slot in flight and for the per-minute budgets, is retried on its own when it fails retryably, and
// teaches the scheduler how much the server takes (AIMD on 429 / 503 with retry-after, x-ratelimit-* headers).
// Scorers that call another service get a scheduler of their own.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestScheduler, RequestSpec } from '../backends/requests';
import { cancelledError, isSclabError, RetryExhausted, SclabError } from '../model/errors';
import { retryDelayFor, sleep, withDeadline, type RetryPolicy } from './retry';

export interface RequestLimits {
  /** the most requests in flight; the adaptive limit moves between 1 and this */
  concurrency: number;
  /** requests per minute; requests wait for budget instead of being refused */
  maxRpm?: number;
  /** tokens per minute (estimated before a request, corrected from the server's usage after) */
  maxTpm?: number;
  /** false: a fixed limit of `concurrency` in flight (no slow start, no halving on 429) */
  adaptive?: boolean;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: Clock = { now: () => performance.now(), sleep };

/** One request of a round and the attempts it took, as records list them. */
export interface RequestTally {
  request: string;
  attempts: number;
}

export interface SchedulerStats {
  /** requests sent and not yet answered */
  inFlight: number;
  /** the adaptive limit now */
  limit: number;
  /** requests sent during the last minute (or since the start, scaled, when shorter) */
  rpm: number;
  /** attempts sent in all, and how many were answered 429 */
  sent: number;
  rateLimited: number;
}

const tallies = new AsyncLocalStorage<RequestTally[]>();

/** Runs `fn`; every request any scheduler finishes inside it (directly or in a backend) is listed in `tally`. */
export function trackRequests<T>(tally: RequestTally[], fn: () => Promise<T>): Promise<T> {
  return tallies.run(tally, fn);
}

/** A token bucket that refills `perMinute` a minute up to `capacity`; takers queue in order. */
class RateBucket {
  private level: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perMinute: number,
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {
    this.level = capacity;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.level = Math.min(this.capacity, this.level + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }

  /** waits until `amount` fits (an amount above the capacity waits for a full bucket and leaves it in debt) */
  take(amount: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => {
      const need = Math.min(amount, this.capacity);
      for (;;) {
        if (signal?.aborted) throw cancelledError();
        this.refill();
        if (this.level >= need - 1e-9) break;
        await this.clock.sleep(Math.ceil(((need - this.level) * 60_000) / this.perMinute), signal);
      }
      this.level -= amount;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** gives back what a request did not use (or charges what it used beyond its estimate, when negative) */
  credit(amount: number): void {
    this.refill();
    this.level = Math.min(this.capacity, this.level + amount);
  }
}

/** OpenAI's reset times: "1s", "6m0s", "20ms", "1h2m3.5s"; a bare number is seconds. */
export function parseResetDuration(text: string | null): number | undefined {
  if (text === null || text.trim() === '') return undefined;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let rest = t;
  const part = /^(\d+(?:\.\d+)?)(ms|h|m|s)/;
  while (rest) {
    const m = part.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

interface HeaderBudget {
  remaining: number;
  resetAt: number;
}

interface Permit {
  epoch: number;
  /** requests in flight when this one went, itself included */
  inFlightAtSend: number;
  /** the limit then: a success only says more would work when the limit was in use */
  limitAtSend: number;
  tokens: number;
}

/**
 * A request's token estimate, worked out once and only when asked: the estimate of a chat request costs a JSON
 * serialisation of its conversation, which only a token budget (max-tpm, or a server's x-ratelimit-*-tokens) reads.
 */
function tokenEstimate(estimated: RequestSpec<unknown>['estimatedTokens']): () => number {
  if (typeof estimated !== 'function') {
    const value = Math.max(0, estimated ?? 0);
    return () => value;
  }
  let value: number | undefined;
  return () => (value ??= Math.max(0, estimated()));
}

/** After how many successes at a level below a known ceiling the scheduler tries one more in flight. */
const probeInterval = (limit: number): number => Math.max(200, 50 * limit);

export class AdaptiveScheduler implements RequestScheduler {
  private readonly clock: Clock;
  private readonly adaptive: boolean;
  private limitNow: number;
  /** the fewest requests in flight that a server refused (429) since the last successful probe */
  private ceiling = Infinity;
  private epoch = 0;
  private successesAtCeiling = 0;
  private nextProbe: number;
  private inFlight = 0;
  private sending = 0;
  private readonly waiting: Array<{ go: () => void; fail: (e: unknown) => void; signal?: AbortSignal; onAbort: () => void }> = [];
  private pauseUntil = 0;
  private readonly rpmBucket?: RateBucket;
  private readonly tpmBucket?: RateBucket;
  private headerRequests?: HeaderBudget;
  private headerTokens?: HeaderBudget;
  private readonly started: number;
  private readonly history: Array<{ at: number; limit: number }> = [];
  /** sends per second over the last minute, for the progress line */
  private readonly perSecond = new Array<number>(60).fill(0);
  private perSecondAt = 0;
  private sent = 0;
  private rateLimited = 0;

  constructor(
    readonly limits: RequestLimits,
    private readonly opts: { retry: RetryPolicy; clock?: Clock; random?: () => number },
  ) {
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) throw new SclabError('config', `concurrency must be a positive whole number (got ${limits.concurrency})`);
    for (const [name, v] of [['max-rpm', limits.maxRpm], ['max-tpm', limits.maxTpm]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new SclabError('config', `${name} must be a positive number (got ${v})`);
    }
    this.clock = opts.clock ?? REAL_CLOCK;
    this.adaptive = limits.adaptive ?? true;
    // slow start: one in flight, one more per success, until the first refusal or the ceiling
    this.limitNow = this.adaptive ? 1 : limits.concurrency;
    this.nextProbe = probeInterval(this.limitNow);
    this.started = this.clock.now();
    this.history.push({ at: 0, limit: this.limitNow });
    // one second's worth of burst: a long run keeps to the rate, a short one does not stall on its first request
    if (limits.maxRpm) this.rpmBucket = new RateBucket(limits.maxRpm, Math.max(1, limits.maxRpm / 60), this.clock);
    if (limits.maxTpm) this.tpmBucket = new RateBucket(limits.maxTpm, Math.max(1, limits.maxTpm / 60), this.clock);
  }

  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const estimate = tokenEstimate(spec.estimatedTokens);
    for (let attempt = 1; ; attempt++) {
      const permit = await this.acquire(estimate, spec.signal);
      let value: T;
      try {
        value = spec.timeoutMs !== undefined ? await withDeadline(spec.send, spec.timeoutMs, spec.signal) : await spec.send(this.attemptSignal(spec.signal));
      } catch (err) {
        this.release(permit, { ok: false, err });
        if (spec.signal?.aborted || (isSclabError(err) && err.code === 'cancelled')) throw spec.signal?.aborted ? cancelledError() : err;
        const delay = retryDelayFor(err, attempt, this.opts.retry, this.opts.random);
        if (delay === null) {
          tallies.getStore()?.push({ request: spec.what, attempts: attempt });
          throw isSclabError(err) && attempt > 1 ? new RetryExhausted(err, attempt) : err;
        }
        // a server that asked for a pause gets it from every request, not just this one
        if (isCongestion(err)) this.pauseUntil = Math.max(this.pauseUntil, this.clock.now() + delay);
        await this.clock.sleep(delay, spec.signal);
        continue;
      }
      this.release(permit, { ok: true, tokens: spec.usedTokens?.(value) });
      tallies.getStore()?.push({ request: spec.what, attempts: attempt });
      return value;
    }
  }

  observeHeaders(headers: Headers): void {
    const now = this.clock.now();
    const read = (kind: 'requests' | 'tokens'): HeaderBudget | undefined => {
      const remaining = Number(headers.get(`x-ratelimit-remaining-${kind}`) ?? NaN);
      const reset = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
      if (!Number.isFinite(remaining) || reset === undefined) return undefined;
      return { remaining, resetAt: now + reset };
    };
    // the server's count already holds the requests it received before this answer left, i.e. nearly all in flight
    this.headerRequests = read('requests') ?? this.headerRequests;
    this.headerTokens = read('tokens') ?? this.headerTokens;
  }

  stats(): SchedulerStats {
    this.rollSeconds();
    const elapsed = this.clock.now() - this.started;
    const lastMinute = this.perSecond.reduce((a, b) => a + b, 0);
    const rpm = elapsed >= 60_000 ? lastMinute : elapsed > 1000 ? (lastMinute * 60_000) / elapsed : lastMinute;
    return { inFlight: this.sending, limit: this.limitNow, rpm: Math.round(rpm), sent: this.sent, rateLimited: this.rateLimited };
  }

  /** The limit over time and what the server refused, for the manifest's notes. */
  summary(): string {
    const s = this.stats();
    const budgets = [this.limits.maxRpm ? `max ${this.limits.maxRpm} requests/min` : '', this.limits.maxTpm ? `max ${this.limits.maxTpm} tokens/min` : ''].filter(Boolean).join(', ');
    const head = `requests: ${s.sent} sent, ${s.rateLimited} answered 429; concurrency ${this.limits.concurrency}${this.adaptive ? ' (adaptive)' : ' (fixed)'}${budgets ? `, ${budgets}` : ''}`;
    if (!this.adaptive) return head;
    return `${head}; in-flight limit over time (s: limit): ${thin(this.history, 24).map((h) => `${(h.at / 1000).toFixed(1)}: ${h.limit}`).join(', ')}`;
  }

  // ----------------------------------------------------------------------------------------------------------

  /** a sender without a deadline of its own still stops on the run's cancellation */
  private attemptSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal ?? new AbortController().signal;
  }

  /** `tokens`: the request's estimate, asked for only where a token budget needs it */
  private async acquire(tokens: () => number, signal?: AbortSignal): Promise<Permit> {
    await this.slot(signal);
    try {
      await this.rpmBucket?.take(1, signal);
      if (this.tpmBucket) await this.tpmBucket.take(tokens(), signal);
      // the last checks and the send's bookkeeping happen in one step, so no other request slips in between
      for (;;) {
        const until = Math.max(this.pauseUntil, this.headerBudgetUntil(tokens));
        const left = until - this.clock.now();
        if (left <= 0) break;
        await this.clock.sleep(left, signal);
        this.forgetPassedResets();
      }
    } catch (e) {
      this.inFlight--;
      this.pump();
      throw e;
    }
    this.sending++;
    this.countSend();
    if (this.headerRequests) this.headerRequests.remaining--;
    if (this.headerTokens) this.headerTokens.remaining -= tokens();
    return { epoch: this.epoch, inFlightAtSend: this.sending, limitAtSend: this.limitNow, tokens: this.tpmBucket ? tokens() : 0 };
  }

  private release(p: Permit, outcome: { ok: true; tokens?: number } | { ok: false; err: unknown }): void {
    this.inFlight--;
    this.sending--;
    if (outcome.ok) {
      if (outcome.tokens !== undefined) this.tpmBucket?.credit(p.tokens - outcome.tokens);
      this.onSuccess(p);
    } else if (isCongestion(outcome.err)) {
      if (isSclabError(outcome.err) && outcome.err.code === 'rate_limit') this.rateLimited++;
      // a refused request used no tokens
      this.tpmBucket?.credit(p.tokens);
      this.onCongestion(p);
    }
    this.pump();
  }

  private onSuccess(p: Permit): void {
    // a limit that was not used is not tested: growing it would only let a later burst overshoot the server
    if (!this.adaptive || p.inFlightAtSend < p.limitAtSend) return;
    const target = Math.min(this.limits.concurrency, this.ceiling - 1);
    if (this.limitNow < target) {
      // slow start, or back up to a level the server took before: one more per success
      this.setLimit(this.limitNow + 1);
      return;
    }
    if (this.ceiling === Infinity || this.limitNow >= this.limits.concurrency) return;
    // at the last level below a refusal: try one more now and then, sooner each time a try works
    if (++this.successesAtCeiling >= this.nextProbe) {
      this.successesAtCeiling = 0;
      this.nextProbe = Math.max(this.limitNow, Math.floor(this.nextProbe / 2));
      this.ceiling++;
      this.setLimit(this.limitNow + 1);
    }
  }

  private onCongestion(p: Permit): void {
    if (!this.adaptive) return;
    if (p.epoch !== this.epoch) {
      // sent before the last decrease: the same burst, already answered for; it only sharpens the ceiling
      this.ceiling = Math.max(2, Math.min(this.ceiling, Math.max(p.inFlightAtSend, this.limitNow + 1)));
      if (this.limitNow > this.ceiling - 1) this.setLimit(this.ceiling - 1);
      return;
    }
    this.epoch++;
    // a 429 at few in flight may be a per-minute budget, not capacity: never aim below half the limit before
    this.ceiling = Math.max(2, p.inFlightAtSend, Math.floor(this.limitNow / 2) + 1);
    this.successesAtCeiling = 0;
    this.nextProbe = probeInterval(this.ceiling - 1);
    this.setLimit(Math.max(1, Math.min(Math.floor(this.limitNow / 2), this.ceiling - 1)));
  }

  private setLimit(limit: number): void {
    if (limit === this.limitNow) return;
    this.limitNow = limit;
    const at = this.clock.now() - this.started;
    this.history.push({ at, limit });
    // memory stays bounded on long runs: the series keeps its extremes
    if (this.history.length > 4096) this.history.splice(0, this.history.length, ...thin(this.history, 2048));
  }

  private slot(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    if (this.inFlight < this.limitNow && this.waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        go: () => {
          signal?.removeEventListener('abort', entry.onAbort);
          resolve();
        },
        fail: reject,
        signal,
        onAbort: () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(cancelledError());
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.limitNow) {
      this.inFlight++;
      this.waiting.shift()!.go();
    }
  }

  /**
   * Slows down before a 429: when the server's own numbers say its budget is spent (counting what is in flight),
   * the time its window resets; 0 when a request may go.
   */
  private headerBudgetUntil(tokens: () => number): number {
    const now = this.clock.now();
    const r = this.headerRequests;
    const t = this.headerTokens;
    let until = 0;
    if (r && r.resetAt > now && r.remaining <= 0) until = Math.max(until, r.resetAt);
    if (t && t.resetAt > now && t.remaining < tokens()) until = Math.max(until, t.resetAt);
    return until;
  }

  /** a window that has reset: its old numbers say nothing more until the next answer */
  private forgetPassedResets(): void {
    const now = this.clock.now();
    if (this.headerRequests && this.headerRequests.resetAt <= now) this.headerRequests = undefined;
    if (this.headerTokens && this.headerTokens.resetAt <= now) this.headerTokens = undefined;
  }

  private rollSeconds(): void {
    const second = Math.floor((this.clock.now() - this.started) / 1000);
    if (second - this.perSecondAt >= 60) this.perSecond.fill(0);
    else for (let s = this.perSecondAt + 1; s <= second; s++) this.perSecond[s % 60] = 0;
    this.perSecondAt = Math.max(this.perSecondAt, second);
  }

  private countSend(): void {
    this.rollSeconds();
    this.perSecond[this.perSecondAt % 60]!++;
    this.sent++;
  }
}

/** 429, or a 503 that says when to come back: the server is full, not broken. */
function isCongestion(err: unknown): boolean {
  if (!isSclabError(err)) return false;
  return err.code === 'rate_limit' || (err.status === 503 && err.retryAfterMs !== undefined);
}

/** At most `n` points of a series, keeping the first, the last, and the lowest and highest between. */
function thin(points: Array<{ at: number; limit: number }>, n: number): Array<{ at: number; limit: number }> {
  if (points.length <= n) return points;
  const out: Array<{ at: number; limit: number }> = [points[0]!];
  const step = (points.length - 2) / (n - 2);
  for (let k = 0; k < n - 2; k++) {
    const slice = points.slice(1 + Math.floor(k * step), 1 + Math.floor((k + 1) * step));
    if (slice.length === 0) continue;
    out.push(slice.reduce((a, b) => (Math.abs(b.limit - out[out.length - 1]!.limit) > Math.abs(a.limit - out[out.length - 1]!.limit) ? b : a)));
  }
  out.push(points[points.length - 1]!);
  return out;
}
