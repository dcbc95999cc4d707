// POST a JSON body, read a JSON answer, and turn every failure into a SclabError with the same mapping as the
// OpenAI backend (429/408/409/5xx retryable with retry-after, 401/403 'auth' without the server's text, bodies
// that are not JSON 'malformed_response', dropped connections 'network'), secrets redacted.
import { APIError } from 'openai';
import { observingFetch, RequestGate } from '../backends/openai/client';
import { estimateTokens, type RequestScheduler } from '../backends/requests';
import { createHttpFetch } from '../backends/openai/http-fetch';

export interface JsonPoster {
  /** `url` may hold a secret (e.g. ?key=): it never reaches a message, because `what` is what messages name */
  post(url: string, body: unknown, what: string, signal?: AbortSignal): Promise<unknown>;
  close(): void;
}

export interface JsonPosterOptions {
  timeoutMs: number;
  /** values that must never appear in an error message */
  secrets: readonly string[];
  headers?: Record<string, string>;
  /** a fetch to use instead of the keep-alive node:http one (tests) */
  fetch?: typeof fetch;
  /** the service's own scheduler: slots, per-minute budgets, retry per request */
  scheduler?: RequestScheduler;
}

function errorObject(text: string): object | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') {
      const inner = (parsed as { error?: unknown }).error;
      // Google and OpenAI wrap the detail as {error: {message}}; others answer {message} or {detail}
      if (inner && typeof inner === 'object') return inner;
      if (typeof inner === 'string') return { message: inner };
      return parsed;
    }
  } catch {
    // not JSON: the raw text is the message
  }
  return undefined;
}

export function createJsonPoster(opts: JsonPosterOptions): JsonPoster {
  const own = opts.fetch ? undefined : createHttpFetch();
  const gate = new RequestGate(opts.timeoutMs, opts.secrets, opts.scheduler);
  const doFetch = observingFetch(opts.fetch ?? own!.fetch, gate);
  return {
    post(url, body, what, signal) {
      return gate.run(what, signal, async (s) => {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...opts.headers },
          body: JSON.stringify(body),
          signal: s,
        });
        const text = await res.text();
        if (!res.ok) {
          const err = errorObject(text);
          // an APIError goes through the OpenAI backend's own status mapping (toSclabError) inside the gate
          throw new APIError(res.status, err, err ? undefined : text.slice(0, 500) || undefined, res.headers);
        }
        // a SyntaxError here becomes 'malformed_response'
        return JSON.parse(text) as unknown;
      }, { estimatedTokens: estimateTokens(JSON.stringify(body), 0) });
    },
    close() {
      own?.close();
    },
  };
}
