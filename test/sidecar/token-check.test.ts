// Token agreement at connect: the sidecar's ids for a sample chat with a prefill against the generation server's
// POST /tokenize — sclab serve in both roles agrees; a server whose ids differ stops the connect at the first
// differing position; llama.cpp's /tokenize shape (content) is read too; a server without /tokenize is recorded as
// not checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecarBackend } from '../../src/core/backends/sidecar';
import { firstDifference, TOKEN_CHECK_SAMPLE } from '../../src/core/backends/sidecar/token-check';
import { createSidecarClient } from '../../src/core/sidecar/client';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import type { SidecarServer } from '../../src/core/sidecar/server';
import { startFakeOpenAIServer } from '../support/fake-openai-server';
import { STORIES_SPEC } from './fixtures';

let server: SidecarServer;
let sample: { text: string; tokens: number[] };
const TOKEN = 'token-check-secret';

beforeAll(async () => {
  server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process', token: TOKEN });
  const c = createSidecarClient({ url: server.url, token: TOKEN, timeoutMs: 30_000 });
  sample = await c.tokenize(TOKEN_CHECK_SAMPLE);
  c.close();
});
afterAll(async () => {
  await server.close();
});

async function connectError(baseUrl: string, apiKey?: string): Promise<unknown> {
  const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl, requestTimeoutMs: 30_000, ...(apiKey ? { apiKey } : {}) });
  try {
    return await b.connect().then(
      (d) => d,
      (e: unknown) => e,
    );
  } finally {
    await b.close();
  }
}

describe('token agreement at connect', () => {
  it('firstDifference: the first differing position, the shorter length when one is a prefix, -1 when equal', () => {
    expect(firstDifference([1, 2, 3], [1, 2, 3])).toBe(-1);
    expect(firstDifference([1, 2, 3], [1, 9, 3])).toBe(1);
    expect(firstDifference([1, 2], [1, 2, 3])).toBe(2);
    expect(firstDifference([], [])).toBe(-1);
  });

  it('sclab serve answers POST /tokenize (vLLM shape and llama.cpp shape) with the ids the sidecar runs on', async () => {
    const post = async (body: unknown) => {
      const r = await fetch(`${server.url}/tokenize`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as { tokens?: number[]; count?: number; error?: { code: string } } };
    };
    const messages = [...TOKEN_CHECK_SAMPLE.messages, { role: 'assistant', content: TOKEN_CHECK_SAMPLE.prefill }];
    const vllm = await post({ model: 'stories260K', messages, add_generation_prompt: false, continue_final_message: true, add_special_tokens: false });
    expect(vllm.status).toBe(200);
    expect(vllm.body.tokens).toEqual(sample.tokens);
    expect(vllm.body.count).toBe(sample.tokens.length);
    // the stories model adds BOS; the text form puts it in front only when missing, as the chat form does
    expect(sample.tokens[0]).toBe(1);
    expect((await post({ content: sample.text })).body.tokens).toEqual(sample.tokens);
    expect((await post({ prompt: `<s>${sample.text}` })).body.tokens?.[0]).toBe(1);
    expect((await post({ messages: TOKEN_CHECK_SAMPLE.messages, continue_final_message: true })).status).toBe(400);
    expect((await post({ model: 'other', prompt: 'x' })).status).toBe(404);
  });

  it('sclab serve in both roles: the check agrees and is recorded in the backend description (the manifest)', async () => {
    const d = (await connectError(`${server.url}/v1`, TOKEN)) as { tokenCheck?: unknown; notes: string[] };
    expect(d.tokenCheck).toEqual({ result: 'agree', against: expect.stringContaining('/tokenize (the chat with continue_final_message'), tokens: sample.tokens.length });
    expect(d.notes.join('\n')).toContain('tokens: the sidecar and POST');
  });

  it('a generation server whose ids differ stops the connect, naming the first differing position and both ids', async () => {
    const other = [...sample.tokens];
    other[3] = other[3]! + 1;
    const fake = await startFakeOpenAIServer({ model: 'stories260K', tokenize: () => [200, { count: other.length, max_model_len: 512, tokens: other }] });
    try {
      const err = await connectError(fake.url);
      expect(err).toMatchObject({ code: 'config' });
      expect((err as Error).message).toMatch(new RegExp(`token mismatch: .* first differ at position 3 \\(sidecar ${sample.tokens[3]}, generation server ${other[3]}\\)`));
    } finally {
      await fake.close();
    }
  });

  it('a server that renders without the continued prefill (the raw prefill after the generation prompt) is caught', async () => {
    // what the old rendering gave: one token fewer or other ids at the end
    const short = sample.tokens.slice(0, -1);
    const fake = await startFakeOpenAIServer({ model: 'stories260K', tokenize: () => [200, { tokens: short }] });
    try {
      expect(((await connectError(fake.url)) as Error).message).toMatch(new RegExp(`first differ at position ${short.length} \\(sidecar ${sample.tokens.at(-1)}, generation server end\\)`));
    } finally {
      await fake.close();
    }
  });

  it("llama.cpp's shape: messages refused, content tokenized without BOS; BOS put in front and the ids agree", async () => {
    const seen: unknown[] = [];
    const fake = await startFakeOpenAIServer({
      model: 'stories260K',
      tokenize: (body: { content?: string }) => {
        seen.push(body);
        return body.content === undefined ? [500, { error: { code: 500, message: '"content" must be provided' } }] : [200, { tokens: sample.tokens.slice(1) }];
      },
    });
    try {
      const d = (await connectError(fake.url)) as { tokenCheck?: { result: string; against: string } };
      expect(d.tokenCheck).toMatchObject({ result: 'agree', against: expect.stringContaining('llama.cpp shape') });
      expect(seen[1]).toEqual({ content: sample.text, add_special: false, parse_special: true });
    } finally {
      await fake.close();
    }
  });

  it('a server without /tokenize: connect goes on and records the check as skipped, saying why', async () => {
    const fake = await startFakeOpenAIServer({ model: 'stories260K' });
    try {
      const d = (await connectError(fake.url)) as { tokenCheck?: { result: string; reason?: string } };
      expect(d.tokenCheck).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/answered 404 \(messages\) and 404 \(content\)/) });
    } finally {
      await fake.close();
    }
  });
});
