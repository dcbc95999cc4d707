import { afterAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/core/engine/client';
import { compileIntervention, type InterventionSpec } from '../../src/core/engine/intervention';
import { PrefixCache } from '../../src/core/engine/prefix-cache';
import { generate, hiddenStates, scoreContinuations } from '../../src/core/engine/session';
import { SclabError } from '../../src/core/model/errors';
import { BIN, BOS, maxAbsDiff, stories, TOK } from './fixtures';

const PROMPT = 'Once upon a time there was a little dog named Max.';
/** a fixed pseudo-random direction of the model's width */
function direction(dim: number, seed = 7): number[] {
  let s = seed;
  return Array.from({ length: dim }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

async function setup() {
  const m = await stories();
  const { nLayers, dim } = m.weights.config;
  const ids = [BOS, ...m.tokenizer.encode(PROMPT)];
  const dir = direction(dim);
  const spec = (alpha: number, layers: number[], more: Partial<InterventionSpec> = {}): InterventionSpec => ({ mode: 'add', alpha, layers: layers.map((layer) => ({ layer, direction: dir })), ...more });
  const unit = compileIntervention(spec(1, [1]), { nLayers, dim })!.byLayer[1]!;
  return { m, nLayers, dim, ids, dir, spec, unit };
}

const clients: EngineClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe('residual-stream interventions', () => {
  it('alpha = 0 is bit-identical to no intervention: generation, option scores, hidden states (with and without the prefix cache)', async () => {
    const { ids, spec } = await setup();
    for (const prefixCache of [false, { budgetBytes: 64 * 2 ** 20 }] as const) {
      const plain = await EngineClient.start({ modelSpec: { kind: 'llama2c', bin: BIN, tokenizer: TOK }, mode: 'in-process', prefixCache });
      const zero = await EngineClient.start({ modelSpec: { kind: 'llama2c', bin: BIN, tokenizer: TOK }, mode: 'in-process', prefixCache });
      clients.push(plain, zero);
      const iv = { intervention: spec(0, [2, 3]) };
      const params = { maxTokens: 24, temperature: 0.8, seed: 11 };
      expect(await zero.generate(ids, params, iv)).toEqual(await plain.generate(ids, params));
      const conts = [[300, 301], [302], [303, 304, 305]];
      expect(await zero.score(ids, conts, iv)).toEqual(await plain.score(ids, conts));
      const cap = { position: 'all', modules: ['residual', 'attn', 'mlp'], convention: 'sclab' } as const;
      expect(await zero.hidden(ids, cap, iv)).toEqual(await plain.hidden(ids, cap));
      const last = { position: 'last', modules: ['residual'], convention: 'hf' } as const;
      expect(await zero.hidden(ids, last, iv)).toEqual(await plain.hidden(ids, last));
    }
  });

  it('adds exactly alpha × the unit direction at the first steered layer, and leaves earlier layers alone', async () => {
    const { m, ids, spec, unit, dim, nLayers } = await setup();
    const cap = { position: 'all', modules: ['residual'], convention: 'sclab' } as const;
    const base = await hiddenStates(m, ids, cap);
    const alpha = 5;
    const steered = await hiddenStates(m, ids, cap, { intervention: compileIntervention(spec(alpha, [2, 3]), { nLayers, dim }) });
    expect(steered.residual![1]).toEqual(base.residual![1]);
    const want = Float32Array.from(base.residual![2]!, (v, i) => v + alpha * unit[i % dim]!);
    expect(maxAbsDiff(steered.residual![2]!, want)).toBeLessThan(1e-5);
    // layer 3 sees the steered stream of layer 2 and adds its own push: it moved by more than the push alone
    expect(maxAbsDiff(steered.residual![3]!, base.residual![3]!)).toBeGreaterThan(alpha * 0.5);
  });

  it('steers only from fromPosition on: earlier tokens keep their states at every layer (attention is causal)', async () => {
    const { m, ids, spec, dim, nLayers } = await setup();
    const cap = { position: 'all', modules: ['residual'], convention: 'sclab' } as const;
    const base = await hiddenStates(m, ids, cap);
    const from = 6;
    const steered = await hiddenStates(m, ids, cap, { intervention: compileIntervention(spec(6, [1, 2, 3], { fromPosition: from }), { nLayers, dim }) });
    for (let l = 0; l <= nLayers; l++) {
      expect(steered.residual![l]!.subarray(0, from * dim)).toEqual(base.residual![l]!.subarray(0, from * dim));
    }
    expect(maxAbsDiff(steered.residual![nLayers]!.subarray(from * dim), base.residual![nLayers]!.subarray(from * dim))).toBeGreaterThan(0.1);
  });

  it('ablation projects the direction out: the steered layer output has no component along it', async () => {
    const { m, ids, spec, unit, dim, nLayers } = await setup();
    const cap = { position: 'all', modules: ['residual'], convention: 'sclab' } as const;
    const base = await hiddenStates(m, ids, cap);
    const ablated = await hiddenStates(m, ids, cap, { intervention: compileIntervention(spec(0, [3], { mode: 'ablate' }), { nLayers, dim }) });
    const along = (h: Float32Array, r: number) => h.subarray(r * dim, (r + 1) * dim).reduce((s, v, i) => s + v * unit[i]!, 0);
    let before = 0;
    for (let r = 0; r < ids.length; r++) {
      before = Math.max(before, Math.abs(along(base.residual![3]!, r)));
      expect(Math.abs(along(ablated.residual![3]!, r))).toBeLessThan(1e-4);
    }
    expect(before).toBeGreaterThan(0.01);
  });

  it('a steered and an unsteered pass never share keys and values in the prefix cache', async () => {
    const { m, ids, spec, dim, nLayers } = await setup();
    const iv = compileIntervention(spec(8, [2, 3, 4]), { nLayers, dim });
    const cache = new PrefixCache(m.weights.config, 64 * 2 ** 20);
    const params = { maxTokens: 20, temperature: 0 };
    const freshSteered = await generate(m, ids, { ...params, intervention: iv });
    const freshPlain = await generate(m, ids, params);
    expect(freshSteered.tokens).not.toEqual(freshPlain.tokens);

    const plain1 = await generate(m, ids, { ...params, prefixCache: cache });
    const reusedAfterPlain = cache.stats().reusedTokens;
    const steered = await generate(m, ids, { ...params, prefixCache: cache, intervention: iv });
    // nothing of the unsteered conversation was reused for the steered one
    expect(cache.stats().reusedTokens).toBe(reusedAfterPlain);
    expect(cache.stats().tailHits).toBe(0);
    expect(steered.tokens).toEqual(freshSteered.tokens);
    // and the steered keys and values did not leak into the unsteered tree
    const plain2 = await generate(m, ids, { ...params, prefixCache: cache });
    expect(plain2.tokens).toEqual(plain1.tokens);
    expect(plain1.tokens).toEqual(freshPlain.tokens);

    const conts = [[300, 301], [302]];
    const scoredSteered = await scoreContinuations(m, ids, conts, { prefixCache: cache, intervention: iv });
    const scoredFresh = await scoreContinuations(m, ids, conts, { intervention: iv });
    expect(maxAbsDiff(scoredSteered.map((s) => s.total), scoredFresh.map((s) => s.total))).toBeLessThan(2e-4);
    const hs = await hiddenStates(m, ids, { position: 'last', modules: ['residual'], convention: 'sclab' }, { prefixCache: cache, intervention: iv });
    const hf = await hiddenStates(m, ids, { position: 'last', modules: ['residual'], convention: 'sclab' }, { intervention: iv });
    expect(maxAbsDiff(hs.residual![nLayers]!, hf.residual![nLayers]!)).toBeLessThan(2e-4);
  });

  it('refuses a malformed intervention with the field that is wrong', async () => {
    const { dim, nLayers, dir } = await setup();
    const shape = { nLayers, dim };
    const bad = (spec: unknown) => () => compileIntervention(spec as InterventionSpec, shape);
    expect(bad({ mode: 'add', alpha: 1, layers: [{ layer: 0, direction: dir }] })).toThrow(/layers\[0\]\.layer: 0 is not a decoder layer output/);
    expect(bad({ mode: 'add', alpha: 1, layers: [{ layer: 1, direction: [1, 2] }] })).toThrow(/layers\[0\]\.direction: needs 64 numbers/);
    expect(bad({ mode: 'add', alpha: 1, layers: [{ layer: 1, direction: new Array(dim).fill(0) }] })).toThrow(/zero vector/);
    expect(bad({ mode: 'add', alpha: Number.NaN, layers: [] })).toThrow(SclabError);
    expect(bad({ mode: 'push', alpha: 1, layers: [] })).toThrow(/mode/);
    // equal specs, equal keys; another alpha, another key
    const a = compileIntervention({ mode: 'add', alpha: 2, layers: [{ layer: 2, direction: dir }] }, shape)!;
    const b = compileIntervention({ mode: 'add', alpha: 2, layers: [{ layer: 2, direction: [...dir] }] }, shape)!;
    const c = compileIntervention({ mode: 'add', alpha: -2, layers: [{ layer: 2, direction: dir }] }, shape)!;
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
  });
});
