import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import type { Backend, ChatRequest } from '../../src/core/backends/backend';
import { DecodingSchema } from '../../src/core/model/chat';
import { SclabError } from '../../src/core/model/errors';
import { startFakeOpenAIServer, type Fault, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

const CANARY = 'sk-canary-XXXX';
const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const REQUEST: ChatRequest = {
  messages: [{ role: 'user', content: 'Is it fair? (a) yes (b) no' }],
  prefill: 'The answer is',
  decoding: DecodingSchema.parse({}),
};

/** every place a secret could leak from an error */
function errorText(e: unknown): string {
  const err = e as SclabError;
  return [String(err), err.message, err.stack ?? '', JSON.stringify(err), String((err as { cause?: unknown }).cause ?? '')].join('\n');
}

async function serverWith(opts: FakeServerOptions): Promise<FakeServer> {
  // a badly behaved server: its error bodies quote the token it received
  const s = await startFakeOpenAIServer({ leakKeyInErrors: true, ...opts });
  servers.push(s);
  return s;
}

function backendFor(s: FakeServer, over: { model?: string; timeoutMs?: number } = {}): Backend {
  return createOpenAIBackend({ baseUrl: s.url, model: over.model ?? 'fake-model', apiKey: CANARY, requestTimeoutMs: over.timeoutMs ?? 3000 });
}

describe('the API key never leaks', () => {
  it('appears in no error of any kind, and the server did receive it', async () => {
    const errors: SclabError[] = [];
    const collect = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(SclabError);
      errors.push(e as SclabError);
    };
    const faults: Fault[] = [
      { kind: 'status', status: 400 },
      { kind: 'status', status: 404 },
      { kind: 'status', status: 408 },
      { kind: 'status', status: 422 },
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 200, body: `{"choices": [], "echo": "${CANARY}"}` },
      { kind: 'status', status: 400, body: `{"error": {"message": "bad key ${CANARY} and Bearer ${CANARY}"}}` },
      { kind: 'reset' },
      { kind: 'malformed' },
      { kind: 'hang' },
    ];
    for (const fault of faults) {
      const s = await serverWith({ faults: () => fault });
      await collect(backendFor(s, { timeoutMs: 200 }).chat(REQUEST));
      // connect ends with an error, or (where the fault only looks like refused features) with a description
      const outcome = await backendFor(s, { timeoutMs: 200 }).connect().then((d) => d, (x: unknown) => x);
      if (outcome instanceof SclabError) errors.push(outcome);
      else expect(JSON.stringify(outcome)).not.toContain(CANARY);
    }
    // auth: the server rejects the canary and quotes it back
    const authServer = await serverWith({ requireKey: 'sk-the-right-one' });
    await collect(backendFor(authServer).connect());
    await collect(backendFor(authServer).chat(REQUEST));
    // unknown model, cancelled, connection refused
    const modelServer = await serverWith({ model: 'served' });
    await collect(backendFor(modelServer, { model: 'missing' }).connect());
    const hangServer = await serverWith({ faults: () => ({ kind: 'hang' }) });
    const controller = new AbortController();
    const pending = collect(backendFor(hangServer).chat(REQUEST, controller.signal));
    while (hangServer.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await pending;
    const gone = await startFakeOpenAIServer();
    await gone.close();
    await collect(createOpenAIBackend({ baseUrl: gone.url, model: 'm', apiKey: CANARY, requestTimeoutMs: 1000 }).connect());

    const codes = new Set(errors.map((e) => e.code));
    for (const code of ['bad_request', 'server', 'rate_limit', 'malformed_response', 'network', 'timeout', 'auth', 'model', 'cancelled']) {
      expect(codes).toContain(code);
    }
    for (const e of errors) expect(errorText(e)).not.toContain(CANARY);
    // …while the key did travel, as a bearer token
    expect(authServer.requests[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(servers.every((s) => s.requests.every((r) => r.headers.authorization === `Bearer ${CANARY}`))).toBe(true);
  });

  it('appears nowhere in a description, even when the base URL carries credentials', async () => {
    const s = await serverWith({ supportsEcho: false, supportsContinue: false });
    const url = new URL(s.url);
    const withSecrets = `http://user:${CANARY}@${url.host}${url.pathname}?api_key=${CANARY}&api-version=2024-01-01`;
    const backend = createOpenAIBackend({ baseUrl: withSecrets, model: 'fake-model', apiKey: CANARY, requestTimeoutMs: 3000 });
    const description = await backend.connect();
    expect(JSON.stringify(description)).not.toContain(CANARY);
    expect(description.baseUrl).toBe(`${s.url}?api-version=2024-01-01`);
    expect(description.notes.join('\n')).toMatch(/credentials embedded in the base URL were removed/);
    await backend.chat(REQUEST);
    expect(s.requests.at(-1)?.headers.authorization).toBe(`Bearer ${CANARY}`);
  });
});
