import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { SclabError } from '../../src/core/model/errors';
import { startFakeOpenAIServer, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function connectTo(opts: FakeServerOptions, apiKey?: string) {
  server = await startFakeOpenAIServer(opts);
  const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', apiKey, requestTimeoutMs: 5000 });
  return backend.connect();
}

describe('connect: capability detection', () => {
  it('finds every capability on a full server', async () => {
    const d = await connectTo({ model: 'fake-model' });
    expect(d.kind).toBe('openai');
    expect(d.model).toBe('fake-model');
    expect(d.baseUrl).toBe(server?.url);
    expect(d.capabilities).toEqual({ chat: true, optionLogprobs: true, topLogprobs: true, labelLogprobs: true, hiddenStates: false, probeScores: false });
    expect(d.notes.join('\n')).toMatch(/GET \/models: lists model "fake-model"/);
    expect(d.notes.join('\n')).toMatch(/mode "continue"/);
    expect(d.notes.join('\n')).toMatch(/plain "role: content" transcript/);
    // every probe is cheap
    for (const r of server?.requests ?? []) if (r.body) expect(r.body.max_tokens).toBeLessThanOrEqual(1);
  });

  it('without echo: no exact option scores, and says why', async () => {
    const d = await connectTo({ supportsEcho: false });
    expect(d.capabilities.optionLogprobs).toBe(false);
    expect(d.capabilities.chat).toBe(true);
    expect(d.notes).toContain('completions echo: unsupported (HTTP 400)');
  });

  it('a server that silently ignores echo is not trusted for option scores', async () => {
    const d = await connectTo({ supportsEcho: false, rejectUnsupported: false });
    expect(d.capabilities.optionLogprobs).toBe(false);
    expect(d.notes.join('\n')).toMatch(/completions echo: ignored by the server/);
  });

  it('without logprobs (refused): no top logprobs and no option scores', async () => {
    const d = await connectTo({ supportsLogprobs: false });
    expect(d.capabilities).toMatchObject({ chat: true, topLogprobs: false, optionLogprobs: false });
    expect(d.notes).toContain('chat logprobs: unsupported (HTTP 400)');
  });

  it('without logprobs (logprobs: null): tolerated and reported', async () => {
    const d = await connectTo({ supportsLogprobs: false, rejectUnsupported: false });
    expect(d.capabilities).toMatchObject({ chat: true, topLogprobs: false, optionLogprobs: false });
    expect(d.notes.join('\n')).toMatch(/without top_logprobs/);
  });

  it('without /models: fine, noted', async () => {
    const d = await connectTo({ supportsModels: false });
    expect(d.capabilities.chat).toBe(true);
    expect(d.notes.join('\n')).toMatch(/GET \/models: unavailable \(HTTP 404\)/);
  });

  it('without continue_final_message: prefill mode "none", noted honestly', async () => {
    const d = await connectTo({ supportsContinue: false });
    expect(d.notes.join('\n')).toMatch(/continue_final_message refused \(HTTP 400\).*mode "none"/);
  });

  it('an unknown model is a model error naming what the server has', async () => {
    server = await startFakeOpenAIServer({ model: 'served-model' });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: 'other-model', requestTimeoutMs: 5000 });
    const e = await backend.connect().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SclabError);
    expect((e as SclabError).code).toBe('model');
    expect((e as SclabError).message).toMatch(/other-model.*served-model/);
  });

  it('401 is an auth error, not retryable, and the key stays out of the message', async () => {
    server = await startFakeOpenAIServer({ requireKey: 'sk-right-key-1234' });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', apiKey: 'sk-wrong-key-5678', requestTimeoutMs: 5000 });
    const e = (await backend.connect().catch((x: unknown) => x)) as SclabError;
    expect(e).toBeInstanceOf(SclabError);
    expect(e.code).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(401);
    expect(e.message).not.toContain('sk-wrong-key-5678');
  });

  it('sends the key as a bearer token, and no Authorization header without a key', async () => {
    await connectTo({ requireKey: 'sk-right-key-1234' }, 'sk-right-key-1234');
    expect(server?.requests[0]?.headers.authorization).toBe('Bearer sk-right-key-1234');
    await server?.close();
    await connectTo({});
    expect(server?.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('a server down is a retryable network error', async () => {
    server = await startFakeOpenAIServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const backend = createOpenAIBackend({ baseUrl: url, model: 'fake-model', requestTimeoutMs: 5000 });
    const e = (await backend.connect().catch((x: unknown) => x)) as SclabError;
    expect(e.code).toBe('network');
    expect(e.retryable).toBe(true);
  });

  it('the prefill mode set by the caller is kept and not probed', async () => {
    server = await startFakeOpenAIServer();
    const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: 5000, prefillMode: 'trailing-assistant' });
    const d = await backend.connect();
    expect(d.notes).toContain('prefill: mode "trailing-assistant" set by the caller');
    expect(server.requests.some((r) => r.body?.continue_final_message !== undefined)).toBe(false);
  });
});
