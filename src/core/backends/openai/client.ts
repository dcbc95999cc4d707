import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { VERSION } from 'openai/version';
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

/** POST a JSON body to a path of the endpoint; the answer as the SDK's create() gives it (see makeJsonPost). */
export type JsonPost = (path: '/chat/completions' | '/completions', body: unknown, signal: AbortSignal) => Promise<unknown>;

/**
 * The SDK's non-streaming create() for a run's hot requests, without its per-request machinery (header merging,
 * request logging, promise wrappers: at a fast local server they cost more CPU than the exchange, see bench:scale).
 * The same request — the SDK's URL (built by the client once per path), JSON body, Accept, Content-Type,
 * User-Agent and Authorization headers — and the same outcomes: the parsed JSON (or the text of a non-JSON answer),
 * an APIError.generate for an error status (the server's body and headers, as retries and messages read them),
 * APIUserAbortError when the caller aborted, APIConnectionTimeoutError / APIConnectionError for a failed exchange.
 * No retries and no timer of its own, as with the SDK client of makeClient (the RequestGate owns both).
 */
export function makeJsonPost(client: OpenAI, apiKey: string | undefined, fetchImpl: typeof fetch): JsonPost {
  const urls = new Map<string, string>();
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json', 'user-agent': `OpenAI/JS ${VERSION}` };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return async (path, body, signal) => {
    let url = urls.get(path);
    if (url === undefined) urls.set(path, (url = client.buildURL(path, undefined)));
    if (signal.aborted) throw new APIUserAbortError();
    let response: Response;
    try {
      response = await fetchImpl(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (err) {
      if (signal.aborted) throw new APIUserAbortError();
      const e = err instanceof Error ? err : new Error(String(err));
      if (e.name === 'AbortError' || /timed? ?out/i.test(String(e) + ('cause' in e ? String(e.cause) : ''))) throw new APIConnectionTimeoutError();
      throw new APIConnectionError({ cause: e });
    }
    if (!response.ok) {
      const text = await response.text().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw APIError.generate(response.status, json as object | undefined, json ? undefined : text, response.headers);
    }
    if (response.status === 204) return null;
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim();
    if (mediaType?.includes('application/json') || mediaType?.endsWith('+json')) {
      if (response.headers.get('content-length') === '0') return undefined;
      return response.json();
    }
    return response.text();
  };
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

  run<T>(what: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>, opts: { estimatedTokens?: number | (() => number) } = {}): Promise<T> {
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
