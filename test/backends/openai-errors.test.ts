import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend, parseRetryAfter } from '../../src/core/backends/openai';
import type { Backend, ChatRequest } from '../../src/core/backends/backend';
import { DecodingSchema } from '../../src/core/model/chat';
import { SclabError, type ErrorCode } from '../../src/core/model/errors';
import { startFakeOpenAIServer, type Fault, type FakeServer } from '../support/fake-openai-server';
import { failure } from '../support/failure';
import { APIError } from 'openai';
import { redact, toSclabError } from '../../src/core/backends/openai/errors';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const REQUEST: ChatRequest = {
  messages: [{ role: 'user', content: 'Is it fair? (a) yes (b) no' }],
  prefill: 'The answer is',
  decoding: DecodingSchema.parse({}),
};

/** a backend whose every request meets `fault` (no connect: chat works before it, conservatively) */
async function faulty(fault: Fault | undefined, timeoutMs = 5000): Promise<Backend> {
  server = await startFakeOpenAIServer({ faults: () => fault });
  return createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: timeoutMs });
}

describe('error mapping', () => {
  const statusCases: Array<[number, ErrorCode, boolean]> = [
    [408, 'server', true],
    [409, 'server', true],
    [429, 'rate_limit', true],
    [500, 'server', true],
    [502, 'server', true],
    [503, 'server', true],
    [400, 'bad_request', false],
    [404, 'bad_request', false],
    [422, 'bad_request', false],
    [401, 'auth', false],
    [403, 'auth', false],
  ];
  it.each(statusCases)('HTTP %i → %s (retryable: %s)', async (status, code, retryable) => {
    const backend = await faulty({ kind: 'status', status });
    const e = await failure(backend.chat(REQUEST));
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.status).toBe(status);
    expect(e.message).toContain(String(status));
    expect(server?.requests).toHaveLength(1); // no retries inside the backend
  });

  it('retry-after in seconds', async () => {
    const backend = await faulty({ kind: 'status', status: 429, retryAfter: '2' });
    const e = await failure(backend.chat(REQUEST));
    expect(e.retryAfterMs).toBe(2000);
  });

  it('retry-after as an HTTP date', async () => {
    const at = new Date(Date.now() + 3_600_000).toUTCString();
    const backend = await faulty({ kind: 'status', status: 503, retryAfter: at });
    const e = await failure(backend.chat(REQUEST));
    expect(e.retryAfterMs).toBeGreaterThan(3_500_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(3_600_000);
  });

  it('retry-after-ms wins over retry-after', async () => {
    const backend = await faulty({ kind: 'status', status: 429, retryAfter: '9', retryAfterMs: '1500' });
    const e = await failure(backend.chat(REQUEST));
    expect(e.retryAfterMs).toBe(1500);
  });

  it('parseRetryAfter: seconds, dates, milliseconds, garbage', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter(h({ 'retry-after': '120' }), now)).toBe(120_000);
    expect(parseRetryAfter(h({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2015 07:27:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(h({ 'retry-after-ms': '250', 'retry-after': '3' }), now)).toBe(250);
    expect(parseRetryAfter(h({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(h({}), now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('a reset connection is a retryable network error', async () => {
    const backend = await faulty({ kind: 'reset' });
    const e = await failure(backend.chat(REQUEST));
    expect(e.code).toBe('network');
    expect(e.retryable).toBe(true);
  });

  it('a truncated JSON body is a retryable malformed response', async () => {
    const backend = await faulty({ kind: 'malformed' });
    const e = await failure(backend.chat(REQUEST));
    expect(e.code).toBe('malformed_response');
    expect(e.retryable).toBe(true);
  });

  it('a non-JSON body is a malformed response', async () => {
    const backend = await faulty({ kind: 'status', status: 200, body: '<html>gateway</html>' });
    expect((await failure(backend.chat(REQUEST))).code).toBe('malformed_response');
  });

  it('a JSON body without choices is a malformed response naming the field', async () => {
    const backend = await faulty({ kind: 'status', status: 200, body: '{"object":"chat.completion","choices":[]}' });
    const e = await failure(backend.chat(REQUEST));
    expect(e.code).toBe('malformed_response');
    expect(e.message).toMatch(/choices/);
  });

  it('a hung request ends as a retryable timeout at the configured deadline', async () => {
    const backend = await faulty({ kind: 'hang' }, 300);
    const e = await failure(backend.chat(REQUEST));
    expect(e.code).toBe('timeout');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/300 ms/);
  });

  it('a slow answer past the deadline is a timeout', async () => {
    const backend = await faulty({ kind: 'delay', ms: 2000 }, 200);
    expect((await failure(backend.chat(REQUEST))).code).toBe('timeout');
  });

  it("the caller's abort is 'cancelled', not retryable", async () => {
    const backend = await faulty({ kind: 'hang' }, 10_000);
    const controller = new AbortController();
    const pending = failure(backend.chat(REQUEST, controller.signal));
    while (server!.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const e = await pending;
    expect(e.code).toBe('cancelled');
    expect(e.retryable).toBe(false);
  });

  it('an already aborted signal sends nothing', async () => {
    const backend = await faulty(undefined);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(backend.chat(REQUEST, controller.signal))).code).toBe('cancelled');
    expect(server?.requests).toHaveLength(0);
  });

  it('close() cancels requests in flight', async () => {
    const backend = await faulty({ kind: 'hang' }, 10_000);
    const pending = failure(backend.chat(REQUEST));
    while (server!.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await backend.close();
    expect((await pending).code).toBe('cancelled');
  });

  it('a bad base URL is a config error', () => {
    expect(() => createOpenAIBackend({ baseUrl: 'not a url', model: 'm', requestTimeoutMs: 1000 })).toThrow(SclabError);
    expect(() => createOpenAIBackend({ baseUrl: 'ftp://x', model: 'm', requestTimeoutMs: 1000 })).toThrow(/http/);
  });
});

describe('redaction of echoed secrets', () => {
  const key = 'sk-live-9F2kQ7xZ3mB8vN1cR5tY';
  it('redacts the key upper-cased, a 13-character prefix, any 8-character run and its base64', () => {
    const b64 = Buffer.from(key).toString('base64');
    const text = `bad key ${key.toUpperCase()}; prefix ${key.slice(0, 13)}…; tail ${key.slice(-9)}; basic ${b64}; ok`;
    const out = redact(text, [key]);
    expect(out).toBe('bad key [redacted]; prefix [redacted]…; tail [redacted]; basic [redacted]; ok');
    // a 7-character run is left alone (it would match noise)
    expect(redact(`x ${key.slice(3, 10)} y`, [key])).toBe(`x ${key.slice(3, 10)} y`);
  });

  it('stores a server error body as one short cleaned line, with echoed parts of the key redacted', () => {
    const body = `{"error":{"message":"model not allowed for key ${key.slice(0, 13).toUpperCase()}\\u0000\\n\\tsee docs"}}`;
    const e = toSclabError(new APIError(400, JSON.parse(body).error, undefined, new Headers()), 'POST /chat/completions', [key]);
    expect(e.message).toBe('POST /chat/completions: HTTP 400: model not allowed for key [redacted] see docs');
  });
});
