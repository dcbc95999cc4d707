import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { startFakeOpenAIServer, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function connected(opts: FakeServerOptions) {
  server = await startFakeOpenAIServer(opts);
  const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: 5000 });
  const description = await backend.connect();
  return { backend, description };
}

const messages = [{ role: 'user' as const, content: 'Who? (a) Ann (b) Bob (c) Unknown.' }];

describe('OpenAI-compatible backend: the label-probability request', () => {
  it('continues the prefill plus " (" for one token and returns that position\'s top-k', async () => {
    const { backend, description } = await connected({ reply: () => 'c) Unknown' });
    expect(description.capabilities.labelLogprobs).toBe(true);
    const alts = await backend.labelLogprobs!({ messages, prefill: 'The single most likely answer choice is (' });
    // the fake server's argmax first, then the other option letters
    expect(alts.map((a) => a.token)).toEqual(['c', 'a', 'b', 'd', 'e']);
    expect(alts[0]!.logprob).toBeGreaterThan(alts[1]!.logprob);
    const sent = server!.requests.filter((r) => r.body?.max_tokens === 1 && r.body?.top_logprobs === 20).at(-1)!.body!;
    expect(sent).toMatchObject({ max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 20, continue_final_message: true, add_generation_prompt: false });
    expect((sent.messages as unknown[]).at(-1)).toEqual({ role: 'assistant', content: 'The single most likely answer choice is (' });
  });
  it('a server that cannot continue a prefill has no label-probability capability, and the call says so', async () => {
    const { backend, description } = await connected({ supportsContinue: false });
    expect(description.capabilities.labelLogprobs).toBe(false);
    await expect(backend.labelLogprobs!({ messages, prefill: 'is (' })).rejects.toMatchObject({ code: 'unsupported' });
  });
});
