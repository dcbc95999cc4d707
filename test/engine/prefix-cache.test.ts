import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend } from '../../src/core/backends/embedded';
import type { HiddenModule } from '../../src/core/backends/backend';
import { PrefixCache } from '../../src/core/engine/prefix-cache';
import { generate, hiddenStates, scoreContinuations } from '../../src/core/engine/session';
import { ForwardState } from '../../src/core/engine/transformer';
import type { ChatMessage } from '../../src/core/model/chat';
import { DecodingSchema } from '../../src/core/model/chat';
import { BOS, MODEL_DIR, maxAbsDiff, stories } from './fixtures';

/** float rounding of a forward pass split into other batches (SIMD vs scalar attention, other sums) */
const TOL = 2e-4;

async function ids(text: string): Promise<number[]> {
  const m = await stories();
  return [BOS, ...m.tokenizer.encode(text)];
}

describe('PrefixCache', () => {
  it('gives back exactly the keys and values it stored, for the longest shared prefix', async () => {
    const m = await stories();
    const a = await ids('Once upon a time there was a cat named Tom. He liked milk.');
    const b = await ids('Once upon a time there was a dog named Rex.');
    const cache = new PrefixCache(m.weights.config, 1e9);
    const sa = new ForwardState(m.weights);
    sa.forward(a);
    cache.insert(a, a.length, sa);
    const sb = new ForwardState(m.weights);
    sb.forward(b);
    cache.insert(b, b.length, sb);

    let shared = 0;
    while (a[shared] === b[shared]) shared++;
    expect(shared).toBeGreaterThan(3);
    // b's tail after the shared part is new; its shared part split a's edge
    expect(cache.stats().storedTokens).toBe(a.length + b.length - shared);

    for (const [q, state] of [[a, sa], [b, sb]] as const) {
      const hit = cache.match(q);
      expect(hit.length).toBe(q.length);
      const restored = new ForwardState(m.weights);
      cache.restore(restored, hit);
      expect(restored.pos).toBe(q.length);
      const got = restored.readKv(0, q.length);
      const want = state.readKv(0, q.length);
      for (let l = 0; l < m.weights.config.nLayers; l++) {
        expect(got.keys[l]).toEqual(want.keys[l]);
        expect(got.values[l]).toEqual(want.values[l]);
      }
    }
    const partial = cache.match([...a.slice(0, shared), 3, 4]);
    expect(partial.length).toBe(shared);
    expect(partial.tail).toBeNull();
  });

  it('evicts the least recently used prefix beyond its budget, and counts it', async () => {
    const m = await stories();
    const probe = new PrefixCache(m.weights.config, 0);
    const texts = ['Tom had a red car.', 'Lily saw a big bird in the sky.', 'The sun was hot and the sea was blue.'];
    const seqs = await Promise.all(texts.map(ids));
    // room for the first two sequences but not the third
    const budget = (seqs[0]!.length + seqs[1]!.length - 1) * probe.bytesPerToken + 6 * 256;
    const cache = new PrefixCache(m.weights.config, budget);
    const put = (q: number[]): void => {
      const s = new ForwardState(m.weights);
      s.forward(q);
      cache.insert(q, q.length, s);
    };
    put(seqs[0]!);
    put(seqs[1]!);
    expect(cache.stats().evictions).toBe(0);
    cache.match(seqs[0]!); // the first is now more recent than the second
    put(seqs[2]!);
    const st = cache.stats();
    expect(st.evictions).toBeGreaterThan(0);
    expect(st.bytes).toBeLessThanOrEqual(budget);
    expect(st.peakBytes).toBeLessThanOrEqual(budget); // room is made before the insert, never after
    expect(cache.match(seqs[1]!).length).toBeLessThan(seqs[1]!.length); // the least recently used one went
    expect(cache.match(seqs[2]!).length).toBe(seqs[2]!.length);
  });

  it('never holds more than its budget: a prompt that cannot fit beside what the insert itself uses is not stored', async () => {
    const m = await stories();
    const probe = new PrefixCache(m.weights.config, 0);
    const short = await ids('Tom had a red car.');
    const long = await ids('Lily saw a big bird in the sky and the sun was hot and the sea was blue.');
    const budget = (short.length + 2) * probe.bytesPerToken + 4 * 256;
    const cache = new PrefixCache(m.weights.config, budget);
    const put = (q: number[]): void => {
      const s = new ForwardState(m.weights);
      s.forward(q);
      cache.insert(q, q.length, s);
    };
    put(short);
    put(long); // alone it is over the budget: not stored (the short one shares its first token, so it is spared)
    const st = cache.stats();
    expect(long.length).toBeGreaterThan(short.length + 2);
    expect(st.refusedInserts).toBe(1);
    expect(st.peakBytes).toBeLessThanOrEqual(budget);
    expect(st.bytes).toBeLessThanOrEqual(budget);
    expect(cache.match(long).length).toBeLessThan(long.length);
    put(short); // and the cache still works
    expect(cache.match(short).length).toBe(short.length);
  });

  it('keeps namespaces apart: a pass under another intervention never reuses these keys', async () => {
    const m = await stories();
    const q = await ids('Tom had a red car.');
    const cache = new PrefixCache(m.weights.config, 1e9);
    const s = new ForwardState(m.weights);
    s.forward(q);
    cache.insert(q, q.length, s, null, 'steer:abc');
    expect(cache.match(q).length).toBe(0);
    expect(cache.match(q, 'steer:abc').length).toBe(q.length);
  });

  it('rejects a budget that is not a number of bytes', async () => {
    const m = await stories();
    expect(() => new PrefixCache(m.weights.config, Number.NaN)).toThrow(/budget/);
  });
});

describe('one pass per round against the three-pass path', () => {
  it('gives the same greedy text, option scores and hidden states over a multi-round conversation', async () => {
    const m = await stories();
    const cache = new PrefixCache(m.weights.config, 1e9);
    let conversation = 'User: Tell me a story about a cat.\n\nAssistant: Once upon a time';
    for (let round = 0; round < 3; round++) {
      const prompt = await ids(conversation);
      const capture = { position: 'last', modules: ['residual', 'attn', 'mlp'], convention: round === 1 ? 'hf' : 'sclab' } as const;
      // the order a round runs in: probes, generation, option scores
      const hNew = await hiddenStates(m, prompt, capture, { prefixCache: cache });
      const gNew = await generate(m, prompt, { maxTokens: 24, temperature: 0, prefixCache: cache });
      const options = [await ids(' (a)'), await ids(' the cat')].map((o) => o.slice(1));
      const sNew = await scoreContinuations(m, prompt, options, { prefixCache: cache });

      const hOld = await hiddenStates(m, prompt, capture);
      const gOld = await generate(m, prompt, { maxTokens: 24, temperature: 0 });
      const sOld = await scoreContinuations(m, prompt, options);

      expect(gNew.text).toBe(gOld.text);
      expect(gNew.tokens).toEqual(gOld.tokens);
      expect(maxAbsDiff(gNew.logprobs, gOld.logprobs)).toBeLessThan(TOL);
      sNew.forEach((s, i) => expect(maxAbsDiff(s.logprobs, sOld[i]!.logprobs)).toBeLessThan(TOL));
      expect(hNew.nTokens).toBe(hOld.nTokens);
      expect(hNew.convention).toBe(capture.convention);
      for (const mod of capture.modules) {
        const a = hNew[mod]!;
        const b = hOld[mod]!;
        expect(a).toHaveLength(b.length);
        a.forEach((v, l) => expect(maxAbsDiff(v, b[l]!)).toBeLessThan(TOL));
      }
      conversation += `${gNew.text}\n\nUser: Are you sure?\n\nAssistant: Yes,`;
    }
    const st = cache.stats();
    // rounds 2 and 3 found the earlier conversation; generation and scoring found each prompt
    expect(st.tailHits).toBeGreaterThanOrEqual(3);
    expect(st.reusedTokens).toBeGreaterThan(st.storedTokens);
  });

  it('answers a second read of the same prompt from its tail without a forward pass, and returns copies', async () => {
    const m = await stories();
    const cache = new PrefixCache(m.weights.config, 1e9);
    const prompt = await ids('Tom had a red car');
    const capture = { position: 'last', modules: ['residual'], convention: 'sclab' } as const;
    const first = await hiddenStates(m, prompt, capture, { prefixCache: cache });
    first.residual![2]!.fill(0);
    const second = await hiddenStates(m, prompt, capture, { prefixCache: cache });
    expect(cache.stats().tailHits).toBe(1);
    expect(maxAbsDiff(second.residual![2]!, (await hiddenStates(m, prompt, capture)).residual![2]!)).toBeLessThan(TOL);
  });
});

describe('embedded backend with and without the prefix cache', () => {
  const onePass = createEmbeddedBackend({ modelSpec: MODEL_DIR, mode: 'in-process' });
  const threePass = createEmbeddedBackend({ modelSpec: MODEL_DIR, mode: 'in-process', prefixCache: false });
  afterAll(async () => {
    await onePass.close();
    await threePass.close();
  });

  it('records the same rounds, and reports its reuse and evictions for the run notes', async () => {
    const decoding = DecodingSchema.parse({ maxTokens: 16 });
    const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me a story about a cat.' }];
    for (let round = 0; round < 3; round++) {
      const results = [];
      for (const b of [onePass, threePass]) {
        const hidden = [];
        for (const module of ['residual', 'mlp'] as HiddenModule[]) hidden.push(await b.hiddenStates({ messages, prefill: 'Once', position: 'last', module }));
        const chat = await b.chat({ messages, prefill: 'Once', decoding });
        const options = await b.scoreOptions!({ messages, prefill: 'Once', continuations: [' upon', ' there'] });
        results.push({ hidden, chat, options });
      }
      const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
      expect(a.chat.text).toBe(b.chat.text);
      expect(maxAbsDiff(a.options.logprobs, b.options.logprobs)).toBeLessThan(TOL);
      a.hidden.forEach((h, i) => h.vectors.forEach((v, l) => expect(maxAbsDiff(v, b.hidden[i]!.vectors[l]!)).toBeLessThan(TOL)));
      messages.push({ role: 'assistant', content: `Once${a.chat.text}` }, { role: 'user', content: 'Are you sure?' });
    }
    const notes = await onePass.runNotes!();
    expect(notes.join('\n')).toMatch(/prefix cache: \d+ prompt tokens reused .* 0 evictions/);
    expect(await threePass.runNotes!()).toEqual([]);
    expect((await onePass.connect()).notes.join('\n')).toMatch(/prefix cache on, budget 512\.0 MiB/);
    expect((await threePass.connect()).notes.join('\n')).toMatch(/prefix cache off/);
  });
});
