import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import type { ChatRequest } from '../../src/core/backends/backend';
import { DecodingSchema } from '../../src/core/model/chat';
import { fakeTokenLogprob, startFakeOpenAIServer, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const QUESTION = 'Who was late? (a) the doctor (b) the nurse (c) cannot be determined';
const request = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content: QUESTION }],
  prefill: 'The single most likely answer choice is',
  decoding: DecodingSchema.parse({ maxTokens: 12, topLogprobs: 3 }),
  ...over,
});

async function backendFor(opts: FakeServerOptions, prefillMode?: 'continue' | 'trailing-assistant' | 'none') {
  server = await startFakeOpenAIServer(opts);
  const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: 5000, prefillMode });
  await backend.connect();
  return backend;
}

const lastChatBody = () => [...(server?.requests ?? [])].reverse().find((r) => r.path === '/v1/chat/completions')?.body;

describe('chat', () => {
  it('continue mode: the prefill goes as a continued assistant message, decoding travels, top logprobs return', async () => {
    const backend = await backendFor({});
    const decoding = DecodingSchema.parse({ temperature: 0.7, topP: 0.9, maxTokens: 12, seed: 42, stop: ['\n'], topLogprobs: 3 });
    const res = await backend.chat(request({ decoding }));
    const body = lastChatBody();
    expect(body.messages).toEqual([
      { role: 'user', content: QUESTION },
      { role: 'assistant', content: 'The single most likely answer choice is' },
    ]);
    expect(body).toMatchObject({
      continue_final_message: true,
      add_generation_prompt: false,
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 12,
      seed: 42,
      stop: ['\n'],
      logprobs: true,
      top_logprobs: 3,
    });
    expect(res.text).toMatch(/^ \((a|b|c)\) /);
    expect(res.finishReason).toBe('stop');
    expect(res.usage?.completionTokens).toBeGreaterThan(0);
    // the first generated token is " (", its alternatives follow; the second is the option letter
    expect(res.topLogprobs?.[0]?.[0]?.token).toBe(' (');
    expect(res.topLogprobs?.[1]?.map((t) => t.token).sort()).toEqual(['a', 'b', 'c']);
    expect(res.topLogprobs?.[1]?.length).toBe(3);
  });

  it('answers are deterministic: the same request gives the same text and numbers', async () => {
    const backend = await backendFor({});
    const a = await backend.chat(request());
    const b = await backend.chat(request());
    expect(b).toEqual(a);
  });

  it('trailing-assistant mode: the prefill is the last message, no continue flags', async () => {
    const backend = await backendFor({}, 'trailing-assistant');
    await backend.chat(request());
    const body = lastChatBody();
    expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: 'The single most likely answer choice is' });
    expect(body.continue_final_message).toBeUndefined();
    expect(body.add_generation_prompt).toBeUndefined();
  });

  it('none mode (detected on a server that refuses continue_final_message): still sends the prefill, takes the reply as is', async () => {
    const backend = await backendFor({ supportsContinue: false, reply: () => ' (c) cannot be determined.' });
    const res = await backend.chat(request());
    const body = lastChatBody();
    expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: 'The single most likely answer choice is' });
    expect(body.continue_final_message).toBeUndefined();
    expect(res.text).toBe(' (c) cannot be determined.');
  });

  it('an empty prefill sends no assistant message and no continue flags', async () => {
    const backend = await backendFor({});
    await backend.chat(request({ prefill: '' }));
    const body = lastChatBody();
    expect(body.messages).toHaveLength(1);
    expect(body.continue_final_message).toBeUndefined();
  });

  it('does not ask for logprobs where the server cannot give them', async () => {
    const backend = await backendFor({ supportsLogprobs: false });
    const res = await backend.chat(request());
    expect(lastChatBody().logprobs).toBeUndefined();
    expect(res.topLogprobs).toBeUndefined();
    expect(res.text.length).toBeGreaterThan(0);
  });

  it('max tokens cut the answer and the finish reason says so', async () => {
    const backend = await backendFor({});
    const res = await backend.chat(request({ decoding: DecodingSchema.parse({ maxTokens: 2 }) }));
    expect(res.finishReason).toBe('length');
    expect(res.text).toMatch(/^ \([abc]$/);
  });

  it('the generated tokens carry the server-side pseudo-logprobs (first position)', async () => {
    const backend = await backendFor({});
    const req = request({ prefill: '' });
    const res = await backend.chat(req);
    const context = `user: ${QUESTION}\nassistant:`;
    expect(res.topLogprobs?.[0]?.[0]).toEqual({ token: ' (', logprob: fakeTokenLogprob(context, ' (') });
  });
});
