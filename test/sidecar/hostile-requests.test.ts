// `sclab serve` facing web pages and hostile clients: malformed request targets, foreign Host and Origin headers,
// text/plain bodies, prompts over the limit on the OpenAI-compatible routes, and clients that hang up.
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarProvider } from '../../src/core/sidecar/provider';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import { startSidecarServer, type SidecarServer } from '../../src/core/sidecar/server';
import { malformedRequestLines, randomRequestLines, sendRaw } from '../support/request-fuzz';
import { STORIES_SPEC } from './fixtures';

let server: SidecarServer;
let port = 0;
beforeAll(async () => {
  server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process', limits: { maxPromptChars: 300 } });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

const host = () => `127.0.0.1:${port}`;
const chat = (content: string) => JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content }], max_tokens: 1 });

describe('sclab serve against hostile requests', () => {
  it('fuzzed request lines: malformed ones get 400 (or a closed socket), none a 5xx, and it keeps serving', async () => {
    for (const line of malformedRequestLines()) {
      const status = await sendRaw(port, line, { host: host() });
      expect(status === null || status === 400 || status === 414 || status === 431, `${JSON.stringify(line)} → ${status}`).toBe(true);
    }
    for (const line of randomRequestLines()) {
      const status = await sendRaw(port, line, { host: host() });
      expect(status === null || status < 500, `${JSON.stringify(line)} → ${status}`).toBe(true);
    }
    expect((await fetch(`${server.url}/v1/info`)).status).toBe(200);
  });

  it('refuses a foreign Host (DNS rebinding), browser Origins and text/plain bodies', async () => {
    expect(await sendRaw(port, 'GET /v1/models HTTP/1.1', { host: `evil.example:${port}` })).toBe(403);
    expect(await sendRaw(port, 'GET /v1/models HTTP/1.1', { host: host(), 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' })).toBe(403);
    expect(await sendRaw(port, 'POST /v1/chat/completions HTTP/1.1', { host: host(), origin: 'https://evil.example', 'content-type': 'application/json' })).toBe(403);
    const plain = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: chat('hi') });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const ok = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat('hi') });
    expect(ok.status).toBe(200);
  });

  it('applies the prompt-length limit on the OpenAI-compatible routes too, before tokenizing', async () => {
    const long = 'a'.repeat(301);
    const c = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat(long) });
    expect(c.status).toBe(413);
    expect(await c.json()).toMatchObject({ error: { code: 'prompt_too_long' } });
    const p = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'stories260K', prompt: long, max_tokens: 0 }) });
    expect(p.status).toBe(413);
  });
});

describe('a client that hangs up', () => {
  it('cancels its work', async () => {
    let aborted: () => void = () => undefined;
    const wasAborted = new Promise<void>((r) => (aborted = r));
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((r) => (started = r));
    // a provider that generates until told to stop (a stand-in for a long generation)
    const provider: SidecarProvider = {
      info: async () => ({ model: 'm', nLayers: 1, dModel: 1, implementation: 'test' }),
      hiddenStates: async () => {
        throw new Error('unused');
      },
      chat: (_m, _p, _params, signal) =>
        new Promise((_resolve, reject) => {
          started();
          signal?.addEventListener('abort', () => {
            aborted();
            reject(new Error('cancelled'));
          });
        }),
      complete: async () => {
        throw new Error('unused');
      },
      close: async () => undefined,
    } as SidecarProvider;
    const s = await startSidecarServer({ provider });
    try {
      const req = http.request(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'go on' }], max_tokens: 100000 }));
      await isStarted;
      req.destroy();
      await wasAborted;
    } finally {
      await s.close();
    }
  });
});
