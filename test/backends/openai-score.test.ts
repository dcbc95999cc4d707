import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend, renderPlainTranscript, type PromptRenderer } from '../../src/core/backends/openai';
import { continuationTokens, echoedSpans, sumContinuation } from '../../src/core/backends/openai/score';
import { SclabError } from '../../src/core/model/errors';
import { fakeTokenLogprob, startFakeOpenAIServer, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const MESSAGES = [{ role: 'user' as const, content: 'Pick one: (a) yes (b) no' }];

async function connected(opts: FakeServerOptions = {}, renderPrompt?: PromptRenderer) {
  server = await startFakeOpenAIServer(opts);
  const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: 5000, renderPrompt });
  const description = await backend.connect();
  return { backend, description };
}

describe('scoreOptions (completions echo)', () => {
  it('golden: sums the continuation tokens of each option', async () => {
    const { backend } = await connected();
    const res = await backend.scoreOptions!({ messages: MESSAGES, prefill: 'Answer:', continuations: [' (a)', ' (b)'] });
    // prompt: "user: Pick one: (a) yes (b) no\n\nassistant: Answer:"; each option is " (" + letter + ")",
    // three tokens; values read off the fake server's hash (see fakeTokenLogprob)
    expect(res.tokenLogprobs).toEqual([
      [-4.2345, -0.7427, -4.9237],
      [-4.2345, -0.6841, -3.0481],
    ]);
    expect(res.logprobs[0]).toBeCloseTo(-9.9009, 10);
    expect(res.logprobs[1]).toBeCloseTo(-7.9667, 10);
    // one echo request per option, nothing generated, prompt = transcript + continuation
    const scoring = server!.requests.filter((r) => r.path === '/v1/completions').slice(-2);
    expect(scoring.map((r) => r.body.prompt)).toEqual([
      'user: Pick one: (a) yes (b) no\n\nassistant: Answer: (a)',
      'user: Pick one: (a) yes (b) no\n\nassistant: Answer: (b)',
    ]);
    expect(scoring[0]?.body).toMatchObject({ echo: true, logprobs: 1, max_tokens: 0 });
  });

  it('the golden numbers are the fake server’s own per-token values', () => {
    const p = renderPlainTranscript(MESSAGES, 'Answer:');
    expect([fakeTokenLogprob(p, ' ('), fakeTokenLogprob(p + ' (', 'a'), fakeTokenLogprob(p + ' (a', ')')]).toEqual([
      -4.2345, -0.7427, -4.9237,
    ]);
  });

  it('a token straddling the boundary counts for the continuation', async () => {
    // prefill ends with a space, option "(a)": the server's token " (" starts inside the round input
    const { backend } = await connected();
    const res = await backend.scoreOptions!({ messages: MESSAGES, prefill: 'Answer: ', continuations: ['(a)'] });
    expect(res.tokenLogprobs[0]).toEqual([-4.2345, -0.7427, -4.9237]);
  });

  it('uses the caller’s chat template and says so', async () => {
    const template: PromptRenderer = (m, p) => m.map((x) => `<|${x.role}|>${x.content}`).join('') + `<|assistant|>${p}`;
    const { backend, description } = await connected({}, template);
    expect(description.notes.join('\n')).toMatch(/chat template the caller supplied/);
    await backend.scoreOptions!({ messages: MESSAGES, prefill: 'Answer:', continuations: [' (a)'] });
    expect(server!.requests.at(-1)?.body.prompt).toBe('<|user|>Pick one: (a) yes (b) no<|assistant|>Answer: (a)');
  });

  it('falls back to max_tokens 1 where max_tokens 0 is refused, and ignores the generated token', async () => {
    const { backend, description } = await connected({
      faults: ({ path, body }) => (path === '/v1/completions' && body?.max_tokens === 0 ? { kind: 'status', status: 400 } : undefined),
    });
    expect(description.capabilities.optionLogprobs).toBe(true);
    expect(description.notes.join('\n')).toMatch(/max_tokens 1/);
    const res = await backend.scoreOptions!({ messages: MESSAGES, prefill: 'Answer:', continuations: [' (a)'] });
    expect(server!.requests.at(-1)?.body.max_tokens).toBe(1);
    expect(res.tokenLogprobs[0]).toEqual([-4.2345, -0.7427, -4.9237]);
  });

  it('refuses to score where connect found no echo', async () => {
    const { backend } = await connected({ supportsEcho: false });
    const e = await backend.scoreOptions!({ messages: MESSAGES, prefill: '', continuations: [' (a)'] }).catch((x: unknown) => x);
    expect((e as SclabError).code).toBe('unsupported');
  });

  it('one failing option fails the call with that error', async () => {
    const { backend } = await connected({
      faults: ({ path, body }) =>
        path === '/v1/completions' && String(body?.prompt).endsWith('(b)') ? { kind: 'status', status: 503 } : undefined,
    });
    const e = (await backend.scoreOptions!({ messages: MESSAGES, prefill: 'Answer:', continuations: [' (a)', ' (b)'] }).catch((x: unknown) => x)) as SclabError;
    expect(e.code).toBe('server');
    expect(e.retryable).toBe(true);
  });
});

describe('echoed token spans', () => {
  const response = (tokens: string[], values: Array<number | null>, offsets?: number[]) => ({
    choices: [{ text: '', logprobs: { tokens, token_logprobs: values, text_offset: offsets } }],
  });

  it('uses text_offset when the tokens do not spell the text (byte tokens)', () => {
    const text = 'Hi é (a)';
    // a byte-level server may split "é" into two byte tokens that do not join back to the text
    const spans = echoedSpans(response(['Hi', ' ', 'bytes:\\xc3', 'bytes:\\xa9', ' (', 'a', ')'], [null, -1, -2, -3, -0.5, -0.25, -0.125], [0, 2, 3, 3, 4, 6, 7]), text, 't');
    const cont = continuationTokens(spans, 4, text.length);
    expect(cont.map((s) => s.token)).toEqual([' (', 'a', ')']);
    expect(sumContinuation(cont, 't').sum).toBe(-0.875);
  });

  it('reports a missing log-probability inside the continuation instead of summing zero', () => {
    const spans = echoedSpans(response(['(', 'a', ')'], [null, -1, -1]), '(a)', 't');
    expect(() => sumContinuation(continuationTokens(spans, 0, 3), 't')).toThrow(/no log-probability/);
  });

  it('detects a server that ignored echo', () => {
    expect(() => echoedSpans(response([' yes'], [-1], [5]), 'hello', 't')).toThrow(/did not echo/);
  });
});
