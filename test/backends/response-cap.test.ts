// A server (or whatever answers at its address) cannot fill our memory: response bodies are capped, and the attempt
// fails with a clear, non-retryable error — in our fetch, the OpenAI backend, the scorer clients and the sidecar client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { DecodingSchema } from '../../src/core/model/chat';
import { createHttpFetch, DEFAULT_MAX_RESPONSE_BYTES } from '../../src/core/backends/openai/http-fetch';
import { createHttpScorer } from '../../src/core/scorers/http-scorer';
import { createSidecarClient, SIDECAR_MAX_RESPONSE_BYTES } from '../../src/core/sidecar/client';

let server: http.Server;
let base = '';
const MiB = 1024 * 1024;

/** streams `bytes` of a never-ending JSON string, chunked (no content-length), or declares it up front */
function flood(res: http.ServerResponse, bytes: number, declare: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(bytes) } : {}) });
  const chunk = Buffer.alloc(MiB, 0x61);
  let sent = 0;
  res.write('{"x":"');
  const more = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end('"}');
  };
  more();
  res.on('error', () => undefined);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/declared')) return flood(res, 300 * MiB, true);
      if (req.url?.startsWith('/small')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      flood(res, 48 * MiB, false);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('response body cap', () => {
  it('our fetch stops reading past the cap (chunked or declared) and keeps working for small answers', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(32 * MiB);
    const f = createHttpFetch({ maxResponseBytes: 2 * MiB });
    try {
      await expect(f.fetch(`${base}/chunked`)).rejects.toMatchObject({ code: 'malformed_response', retryable: false, message: expect.stringMatching(/over 2097152 bytes; response bodies are capped at 2097152 bytes \(2 MiB/) });
      await expect(f.fetch(`${base}/declared`)).rejects.toMatchObject({ code: 'malformed_response', message: expect.stringMatching(/is 314572800 bytes/) });
      expect(await (await f.fetch(`${base}/small`)).json()).toEqual({ ok: true });
    } finally {
      f.close();
    }
  });

  it('the OpenAI backend fails the attempt with the cap error, not a retryable network error', async () => {
    const b = createOpenAIBackend({ baseUrl: `${base}/v1`, model: 'm', requestTimeoutMs: 30_000, maxResponseBytes: 2 * MiB, prefillMode: 'none' });
    try {
      const err = await b.chat({ messages: [{ role: 'user', content: 'hi' }], prefill: '', decoding: DecodingSchema.parse({ maxTokens: 4 }) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'malformed_response', retryable: false });
      expect((err as Error).message).toMatch(/capped at 2097152 bytes/);
    } finally {
      await b.close();
    }
  });

  it('the scorer client is capped at 32 MiB, the sidecar client at the sidecar\'s own 256 MiB budget', async () => {
    const scorer = createHttpScorer({ url: `${base}/score`, timeoutMs: 30_000 });
    await expect(scorer.score(['a text'])).rejects.toMatchObject({ code: 'malformed_response', message: expect.stringMatching(/capped at 33554432 bytes/) });
    await scorer.close?.();
    expect(SIDECAR_MAX_RESPONSE_BYTES).toBe(256 * MiB);
    // a declared 300 MiB answer fails before it is read
    const sidecar = createSidecarClient({ url: `${base}/declared`, timeoutMs: 30_000 });
    await expect(sidecar.info()).rejects.toMatchObject({ code: 'malformed_response', message: expect.stringMatching(/capped at 268435456 bytes/) });
    sidecar.close();
  });
});
