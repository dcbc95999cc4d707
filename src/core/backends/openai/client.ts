import OpenAI from 'openai';
import { linkSignal, type LinkedSignal } from '../../util/signal';
import { cancelledError, SclabError } from '../../model/errors';
import { usageTokens, type RequestScheduler } from '../requests';
import type { Endpoint } from './endpoint';
import { toSclabError } from './errors';

/**
 * The SDK client, configured so that nothing comes from the environment (core never reads it) and nothing is
 * retried (the runner's scheduler owns retries).
 */
export function makeClient(endpoint: Endpoint, apiKey: string | undefined, timeoutMs: number, fetchImpl?: typeof fetch): OpenAI {
  return new OpenAI({
    baseURL: endpoint.requestBaseUrl,
    defaultQuery: endpoint.defaultQuery,
    // the SDK insists on a key; without one the Authorization header is dropped instead of sending a dummy
    apiKey: apiKey ?? 'no-key',
    defaultHeaders: apiKey ? undefined : { Authorization: null },
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
    // cast: our node:http fetch implements the part of fetch the SDK calls; the SDK's Fetch type names DOM-only extras
    ...(fetchImpl ? { fetch: fetchImpl as never } : {}),
  });
}

/**
 * The one path every HTTP request of a backend or scorer takes. With a scheduler (a run's), the request waits for a
 * slot and budget and is retried on its own; each attempt runs under a deadline that covers the whole exchange, body
 * included (the SDK's own timeout stops at the response headers), and the caller's signal. Every failure leaves as
 * a SclabError.
 */
export class RequestGate {
  private readonly inFlight = new Set<LinkedSignal>();
  /** set for the length of a run; without one, a request is sent once */
  scheduler: RequestScheduler | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly secrets: readonly string[],
    scheduler?: RequestScheduler,
  ) {
    this.scheduler = scheduler;
  }

  run<T>(what: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>, opts: { estimatedTokens?: number } = {}): Promise<T> {
    const scheduler = this.scheduler;
    if (!scheduler) return this.once(what, signal, fn);
    return scheduler.request({ what, signal, estimatedTokens: opts.estimatedTokens, send: (s) => this.once(what, s, fn), usedTokens: usageTokens });
  }

  private async once<T>(what: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw cancelledError();
    const controller = linkSignal(signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    this.inFlight.add(controller);
    try {
      return await fn(controller.signal);
    } catch (e) {
      if (signal?.aborted) throw new SclabError('cancelled', `${what}: cancelled`);
      if (timedOut) {
        throw new SclabError('timeout', `${what}: no complete answer within ${this.timeoutMs} ms`, { retryable: true });
      }
      throw toSclabError(e, what, this.secrets);
    } finally {
      clearTimeout(timer);
      controller.unlink();
      this.inFlight.delete(controller);
    }
  }

  /** aborts every request still running; they end as 'cancelled' */
  abortAll(): void {
    for (const c of this.inFlight) c.abort();
  }
}

/** A fetch that hands every answer's headers (x-ratelimit-*) to the gate's scheduler, which slows down before a 429. */
export function observingFetch(base: typeof fetch, gate: RequestGate): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await base(input, init);
    gate.scheduler?.observeHeaders(res.headers);
    return res;
  }) as typeof fetch;
}
