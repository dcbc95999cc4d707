import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend } from '../../src/core/backends/embedded';
import { generate, hiddenStates, scoreContinuation } from '../../src/core/engine/session';
import { DecodingSchema } from '../../src/core/model/chat';
import { BOS, MODEL_DIR, maxAbsDiff, stories } from './fixtures';

const backend = createEmbeddedBackend({ modelSpec: MODEL_DIR, mode: 'in-process' });
afterAll(() => backend.close());

const messages = [{ role: 'user' as const, content: 'Tell me a story about a cat.' }];
const PROMPT = 'User: Tell me a story about a cat.\n\nAssistant: Once upon a time';

describe('embedded backend', () => {
  it('describes itself with every exact capability', async () => {
    const d = await backend.connect();
    expect(d.kind).toBe('embedded');
    expect(d.model).toBe('stories260K');
    expect(d.capabilities).toEqual({ chat: true, optionLogprobs: true, topLogprobs: true, hiddenStates: true, probeScores: false, steer: true });
    expect(d.notes.join('\n')).toMatch(/5 layers, width 64/);
    // one engine for generation and hidden states: the manifest says so, with the sample chat's length (BOS + text)
    expect(d.tokenCheck).toMatchObject({ result: 'agree', against: expect.stringContaining('the engine itself') });
    expect(d.tokenCheck!.tokens).toBeGreaterThan(10);
    expect(await backend.identity()).toEqual((await stories()).identity);
  });

  it('chat continues the prefill through the plain chat format and returns top-k of the generated tokens', async () => {
    const decoding = DecodingSchema.parse({ maxTokens: 12, topLogprobs: 3 });
    const r = await backend.chat({ messages, prefill: 'Once upon a time', decoding });
    const m = await stories();
    const ids = [BOS, ...m.tokenizer.encode(PROMPT)];
    const direct = await generate(m, ids, { maxTokens: 12, temperature: 0 });
    expect(r.text).toBe(direct.text);
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.usage).toEqual({ promptTokens: ids.length, completionTokens: direct.tokens.length });
    expect(['stop', 'length']).toContain(r.finishReason);
    expect(r.topLogprobs).toHaveLength(direct.tokens.length);
    expect(r.topLogprobs![0]).toHaveLength(3);
    expect(r.topLogprobs![0]![0]!.logprob).toBeCloseTo(direct.logprobs[0]!, 5);
  });

  it('honours stop sequences', async () => {
    const r = await backend.chat({ messages, prefill: 'Once upon a time', decoding: DecodingSchema.parse({ maxTokens: 40, stop: ['.'] }) });
    expect(r.text).not.toContain('.');
    expect(r.finishReason).toBe('stop');
  });

  it('scores options exactly after the full round input', async () => {
    const req = { messages, prefill: 'The answer is', continuations: [' (a)', ' (b)', ' a cat'] };
    const r = await backend.scoreOptions!(req);
    expect(r.logprobs).toHaveLength(3);
    const m = await stories();
    const input = `User: Tell me a story about a cat.\n\nAssistant: The answer is`;
    const ctx = [BOS, ...m.tokenizer.encode(input)];
    for (const [i, c] of req.continuations.entries()) {
      const whole = [BOS, ...m.tokenizer.encode(input + c)];
      expect(whole.slice(0, ctx.length)).toEqual(ctx); // the plain format keeps the input's tokens here
      const direct = await scoreContinuation(m, ctx, whole.slice(ctx.length));
      expect(maxAbsDiff(r.tokenLogprobs[i]!, direct.logprobs)).toBeLessThan(1e-5);
      expect(r.logprobs[i]).toBeCloseTo(direct.total, 4);
    }
    expect(r.logprobs[0]).not.toBeCloseTo(r.logprobs[1]!, 3);
  });

  it('returns the chosen layers of a module at the last token of the round input', async () => {
    const m = await stories();
    const ids = [BOS, ...m.tokenizer.encode(PROMPT)];
    const all = await backend.hiddenStates({ messages, prefill: 'Once upon a time', position: 'last', module: 'residual' });
    expect(all.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all.vectors).toHaveLength(6);
    expect(all.nTokens).toBe(ids.length);
    const direct = await hiddenStates(m, ids, { position: 'last', modules: ['residual', 'mlp'], convention: 'sclab' });
    expect(maxAbsDiff(all.vectors[3]!, direct.residual![3]!)).toBe(0);
    const mlp = await backend.hiddenStates({ messages, prefill: 'Once upon a time', position: 'last', module: 'mlp', layers: [1, 5] });
    expect(mlp.layers).toEqual([1, 5]);
    expect(maxAbsDiff(mlp.vectors[0]!, direct.mlp![0]!)).toBe(0);
    expect(maxAbsDiff(mlp.vectors[1]!, direct.mlp![4]!)).toBe(0);
    await expect(backend.hiddenStates({ messages, prefill: '', position: 'last', module: 'attn', layers: [0] })).rejects.toThrow(/layer 0 does not exist for module attn: choose 1…5/);
  });

  it('passes cancellation through', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(backend.chat({ messages, prefill: '', decoding: DecodingSchema.parse({}) }, ctl.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});
