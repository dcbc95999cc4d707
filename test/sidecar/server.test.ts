// The sidecar server's own promises: request schemas, error answers, encodings, log-likelihoods equal to the
// engine's scoreContinuation, and a token that never reaches the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llama2cFromSpec } from './engine-fixture';
import { scoreContinuation } from '../../src/core/engine/session';
import { createSidecarClient } from '../../src/core/sidecar/client';
import { decodeVector, encodeVector } from '../../src/core/sidecar/encoding';
import { HiddenStatesRequestSchema, InputSchema, LoglikelihoodRequestSchema, ProbeScoresRequestSchema } from '../../src/core/sidecar/protocol';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import type { SidecarServer } from '../../src/core/sidecar/server';
import { STORIES_SPEC } from './fixtures';

const TOKEN = 'tok-3f9a-never-logged';
const log: string[] = [];
let server: SidecarServer;

beforeAll(async () => {
  server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process', token: TOKEN, limits: { maxBodyBytes: 2048, maxPromptChars: 300 }, log: (l) => log.push(l) });
});
afterAll(() => server.close());

const post = (path: string, body: string, token = TOKEN) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });

describe('protocol schemas', () => {
  it('take exactly one input; prefill only with messages; defaults for layers, position, module, convention, encoding', () => {
    expect(InputSchema.safeParse({ prompt: 'a' }).success).toBe(true);
    expect(InputSchema.safeParse({ messages: [{ role: 'user', content: 'a' }], prefill: 'b' }).success).toBe(true);
    expect(InputSchema.safeParse({}).success).toBe(false);
    expect(InputSchema.safeParse({ prompt: 'a', messages: [{ role: 'user', content: 'a' }] }).success).toBe(false);
    expect(InputSchema.safeParse({ prompt: 'a', prefill: 'b' }).success).toBe(false);
    expect(HiddenStatesRequestSchema.parse({ prompt: 'a' })).toMatchObject({ layers: 'all', position: 'last', module: 'resid', convention: 'sclab', encoding: 'json' });
    expect(HiddenStatesRequestSchema.safeParse({ prompt: 'a', layers: [-1] }).success).toBe(false);
    expect(HiddenStatesRequestSchema.safeParse({ prompt: 'a', module: 'residual' }).success).toBe(false);
    expect(LoglikelihoodRequestSchema.safeParse({ context: 'a', continuations: [] }).success).toBe(false);
    expect(ProbeScoresRequestSchema.safeParse({ prompt: 'a', probes: [{ id: 'x' }, { probe: {} }] }).success).toBe(true);
    expect(ProbeScoresRequestSchema.safeParse({ prompt: 'a', probes: [{ id: 'x', probe: {} }] }).success).toBe(false);
  });

  it('base64-f32 round-trips float32 exactly and refuses a ragged byte count', () => {
    const v = Float32Array.from([0, -1.5, 3.4028234663852886e38, 1e-45, Math.PI]);
    expect(Array.from(decodeVector(encodeVector(v, 'base64-f32'), 'v'))).toEqual(Array.from(v));
    expect(Array.from(decodeVector(encodeVector(v, 'json'), 'v'))).toEqual(Array.from(v));
    expect(() => decodeVector('AAAAAAA=', 'layers[0]')).toThrow(/layers\[0\].*not a whole number/);
  });
});

describe('error answers', () => {
  it('401 without or with a wrong token; the token never appears in the log', async () => {
    const none = await fetch(`${server.url}/v1/info`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await post('/v1/hidden_states', '{"prompt":"a"}', `${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toContain(TOKEN);
    expect(log.length).toBeGreaterThan(0);
    expect(log.join('\n')).not.toContain(TOKEN);
  });

  it('413 for a body over the limit and for a prompt over the character limit', async () => {
    const big = await post('/v1/hidden_states', JSON.stringify({ prompt: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'too_large', message: expect.stringContaining('2048') } });
    const long = await post('/v1/loglikelihood', JSON.stringify({ context: 'y '.repeat(200), continuations: ['a'] }));
    expect(long.status).toBe(413);
    expect(await long.json()).toMatchObject({ error: { code: 'prompt_too_long', message: expect.stringContaining('300') } });
  });

  it('400 naming the field for bad layers and bad values', async () => {
    const layers = await post('/v1/hidden_states', JSON.stringify({ prompt: 'a', layers: [99] }));
    expect(layers.status).toBe(400);
    expect(await layers.json()).toMatchObject({ error: { code: 'bad_request', message: expect.stringMatching(/layer 99 does not exist for module resid: choose 0…5/) } });
    const pos = await post('/v1/hidden_states', JSON.stringify({ prompt: 'a', position: 'first' }));
    expect(await pos.json()).toMatchObject({ error: { code: 'bad_request', message: expect.stringContaining('position') } });
  });
});

describe('answers', () => {
  it('json and base64-f32 answers carry the same numbers; base64 is the smaller', async () => {
    const c = createSidecarClient({ url: server.url, token: TOKEN, timeoutMs: 30_000 });
    const a = await c.hiddenStates({ prompt: 'Once upon a time', position: 'all', encoding: 'json' });
    const b = await c.hiddenStates({ prompt: 'Once upon a time', position: 'all', encoding: 'base64-f32' });
    expect(b.vectors.map((v) => Array.from(v))).toEqual(a.vectors.map((v) => Array.from(v)));
    expect(b.bytes).toBeLessThan(a.bytes);
    c.close();
  });

  it('loglikelihood equals the engine\'s scoreContinuation on the same tokens', async () => {
    const model = await llama2cFromSpec();
    const c = createSidecarClient({ url: server.url, token: TOKEN, timeoutMs: 30_000 });
    const context = 'Once upon a time, there was a little';
    const r = await c.loglikelihood({ context, continuations: [' girl named Lily', ' dog'] });
    const ctx = [1, ...model.tokenizer.encode(context)];
    for (const [i, cont] of [' girl named Lily', ' dog'].entries()) {
      const whole = [1, ...model.tokenizer.encode(context + cont)];
      expect(whole.slice(0, ctx.length)).toEqual(ctx);
      const want = await scoreContinuation(model, ctx, whole.slice(ctx.length));
      expect(r.results[i]!.logprobs.length).toBe(want.logprobs.length);
      r.results[i]!.logprobs.forEach((x, k) => expect(x).toBeCloseTo(want.logprobs[k]!, 5));
      expect(r.results[i]!.sum).toBeCloseTo(want.total, 5);
      expect(r.results[i]!.tokens.join('')).toBe(cont);
    }
    c.close();
  });
});
