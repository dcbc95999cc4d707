// `sclab serve` as an OpenAI-compatible server, seen through our own openai backend: the capability probe finds
// chat, top-k logprobs and exact option log-likelihoods, and the scores equal the embedded backend's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../src/core/backends/embedded';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import type { Backend } from '../../src/core/backends/backend';
import { plainChat } from '../../src/core/engine/plain-chat';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import type { SidecarServer } from '../../src/core/sidecar/server';
import { STORIES_SPEC } from './fixtures';

let server: SidecarServer;
let openai: Backend;
let embedded: EmbeddedBackend;

beforeAll(async () => {
  server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process' });
  // the embedded engine renders stories260K prompts with the plain chat format; scoring the same text needs it too
  openai = createOpenAIBackend({ baseUrl: `${server.url}/v1`, model: 'stories260K', requestTimeoutMs: 30_000, renderPrompt: (m, p) => plainChat.render(m, p) });
  embedded = createEmbeddedBackend({ modelSpec: STORIES_SPEC, mode: 'in-process' });
});
afterAll(async () => {
  await openai.close();
  await embedded.close();
  await server.close();
});

const messages = [{ role: 'user' as const, content: 'Which animal says meow? (a) a dog (b) a cat' }];

describe('sclab serve through the openai backend', () => {
  it('connect() finds chat, top-k logprobs, prefill continuation and exact option log-likelihoods', async () => {
    const d = await openai.connect();
    expect(d.capabilities).toEqual({ chat: true, topLogprobs: true, labelLogprobs: true, optionLogprobs: true, hiddenStates: false, probeScores: false });
    expect(d.notes.join('\n')).toContain('continue_final_message accepted');
    expect(d.notes.join('\n')).toContain('lists model "stories260K"');
  });

  it('scoreOptions equals the embedded backend\'s exact scores', async () => {
    const req = { messages, prefill: 'The answer is', continuations: [' (a)', ' (b)', ' a cat'] };
    const [a, b] = [await openai.scoreOptions!(req), await embedded.scoreOptions!(req)];
    expect(a.tokenLogprobs.map((t) => t.length)).toEqual(b.tokenLogprobs.map((t) => t.length));
    a.logprobs.forEach((x, i) => expect(x).toBeCloseTo(b.logprobs[i]!, 4));
    expect(new Set(a.logprobs.map((x) => x.toFixed(3))).size).toBe(3);
  });

  it('the label-probability request reads the next token\'s top-k after the prefill: the values equal exact scoring', async () => {
    const alts = await openai.labelLogprobs!({ messages, prefill: 'The answer is (' });
    expect(alts.length).toBeGreaterThan(1);
    expect(alts.length).toBeLessThanOrEqual(20);
    for (let i = 1; i < alts.length; i++) expect(alts[i]!.logprob).toBeLessThanOrEqual(alts[i - 1]!.logprob);
    // the top alternative, scored exactly as a one-token continuation of the same input, has the same log-probability
    const top = alts[0]!;
    const exact = await embedded.scoreOptions!({ messages, prefill: 'The answer is (', continuations: [top.token] });
    expect(exact.tokenLogprobs[0]).toHaveLength(1);
    expect(exact.logprobs[0]).toBeCloseTo(top.logprob, 4);
  });

  it('chat with a prefill equals the embedded backend\'s greedy answer, with top-k alternatives', async () => {
    const decoding = { temperature: 0, topP: 1, maxTokens: 12, stop: [], topLogprobs: 3 };
    const req = { messages, prefill: 'Once upon a time', decoding };
    const [a, b] = [await openai.chat(req), await embedded.chat(req)];
    expect(a.text).toBe(b.text);
    expect(a.text.length).toBeGreaterThan(0);
    expect(a.topLogprobs?.[0]?.length).toBe(3);
    expect(a.topLogprobs![0]![0]!.logprob).toBeCloseTo(b.topLogprobs![0]![0]!.logprob, 4);
  });

  it('completions with echo and max_tokens 0 give every prompt token its log-probability and offset', async () => {
    const prompt = 'Once upon a time, Tom (age 7) found 3 shiny boxes.\n\nUser: Why?  Assistant: Because -- he looked!';
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt, echo: true, logprobs: 1, max_tokens: 0 }),
    });
    const body = (await res.json()) as { choices: Array<{ text: string; logprobs: { tokens: string[]; token_logprobs: number[]; text_offset: number[] } }> };
    const c = body.choices[0]!;
    expect(c.text).toBe(prompt);
    expect(c.logprobs.tokens.join('')).toBe(prompt);
    c.logprobs.tokens.forEach((t, i) => expect(prompt.slice(c.logprobs.text_offset[i], c.logprobs.text_offset[i]! + t.length)).toBe(t));
    expect(c.logprobs.token_logprobs.every((x) => x < 0)).toBe(true);
  });

  it('answers 404 for another model name, as vLLM does', async () => {
    const other = createOpenAIBackend({ baseUrl: `${server.url}/v1`, model: 'mistral-7b', requestTimeoutMs: 30_000 });
    await expect(other.connect()).rejects.toMatchObject({ code: 'model', message: expect.stringContaining('stories260K') });
    await other.close();
  });
});
