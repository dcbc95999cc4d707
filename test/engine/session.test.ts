import { describe, expect, it } from 'vitest';
import { alignContinuations } from '../../src/core/engine/continuations';
import { rmsnorm, matmul } from '../../src/core/engine/kernels';
import { generate, hiddenStates, nextTokenLogits, scoreContinuation, scoreContinuations } from '../../src/core/engine/session';
import { mulberry32 } from '../../src/core/engine/sampler';
import { BOS, maxAbsDiff, stories } from './fixtures';

describe('generate', () => {
  it('returns logprobs that score() reproduces from one forward pass', async () => {
    const m = await stories();
    const prompt = [BOS, ...m.tokenizer.encode('Tom had a red car')];
    const r = await generate(m, prompt, { maxTokens: 20, temperature: 0.9, seed: 7, topLogprobs: 3 });
    expect(r.tokens.length).toBeGreaterThan(0);
    const s = await scoreContinuation(m, prompt, r.tokens);
    expect(maxAbsDiff(s.logprobs, r.logprobs)).toBeLessThan(1e-5);
    expect(s.total).toBeCloseTo(r.logprobs.reduce((a, b) => a + b, 0), 4);
    // the top alternatives are sorted, proper log-probabilities, and contain the chosen token whenever it is likely
    for (const [i, alts] of r.topLogprobs!.entries()) {
      expect(alts).toHaveLength(3);
      expect(alts[0]!.logprob).toBeGreaterThanOrEqual(alts[1]!.logprob);
      expect(alts[1]!.logprob).toBeGreaterThanOrEqual(alts[2]!.logprob);
      if (r.logprobs[i]! > alts[2]!.logprob) expect(alts.map((a) => a.id)).toContain(r.tokens[i]);
    }
  });

  it('is greedy at temperature 0: the first alternative is the chosen token', async () => {
    const m = await stories();
    const r = await generate(m, [BOS], { maxTokens: 8, temperature: 0, topLogprobs: 2 });
    r.topLogprobs!.forEach((alts, i) => {
      expect(alts[0]!.id).toBe(r.tokens[i]);
      expect(alts[0]!.logprob).toBeCloseTo(r.logprobs[i]!, 6);
      expect(alts[0]!.token).toBe(m.tokenizer.decode([r.tokens[i]!]));
    });
  });

  it('repeats a sampled generation for the same seed and differs for another', async () => {
    const m = await stories();
    const a = await generate(m, [BOS], { maxTokens: 30, temperature: 1, topP: 0.9, seed: 42 });
    const b = await generate(m, [BOS], { maxTokens: 30, temperature: 1, topP: 0.9, seed: 42 });
    const c = await generate(m, [BOS], { maxTokens: 30, temperature: 1, topP: 0.9, seed: 43 });
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
    expect(a.seed).toBe(42);
    const rand = mulberry32(1);
    const xs = Array.from({ length: 1000 }, rand);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('stops at a stop sequence, cutting the text before it', async () => {
    const m = await stories();
    const full = await generate(m, [BOS], { maxTokens: 40, temperature: 0 });
    expect(full.text).toContain('. She');
    const r = await generate(m, [BOS], { maxTokens: 40, temperature: 0, stop: ['. She', 'never appears'] });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf('. She')));
    expect(r.tokens.length).toBeLessThan(full.tokens.length);
  });

  it('streams the text token by token and stops when the signal aborts', async () => {
    const m = await stories();
    const ctl = new AbortController();
    const pieces: string[] = [];
    const run = generate(m, [BOS], {
      maxTokens: 500,
      temperature: 0,
      signal: ctl.signal,
      onToken: (t) => {
        pieces.push(t.text);
        if (pieces.length === 5) ctl.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(pieces.length).toBe(5);
    expect(pieces.join('')).toBe('Once upon a time,');
  });

  it('ends on the end-of-sequence token without including it', async () => {
    const m = await stories();
    const r = await generate(m, [BOS], { maxTokens: 511, temperature: 0 });
    expect(r.finishReason).toBe('eos');
    expect(r.tokens.some((t) => m.tokenizer.eosIds.includes(t))).toBe(false);
  });
});

describe('scoring', () => {
  it('scores several continuations after a shared prefix like one forward each', async () => {
    const m = await stories();
    const prefix = [BOS, ...m.tokenizer.encode('The cat sat on the')];
    const conts = [m.tokenizer.encode('mat').slice(1), m.tokenizer.encode('big red ball and cried').slice(1), []];
    const shared = await scoreContinuations(m, prefix, conts);
    for (const [i, c] of conts.entries()) {
      const one = await scoreContinuation(m, prefix, c);
      expect(maxAbsDiff(shared[i]!.logprobs, one.logprobs)).toBeLessThan(1e-5);
    }
    expect(shared[2]).toEqual({ logprobs: [], total: 0 });
    const first = shared[0]!.logprobs[0]!;
    const logits = nextTokenLogits(m, prefix);
    const lse = Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));
    expect(first).toBeCloseTo(logits[conts[0]![0]!]! - lse, 4);
  });

  it('aligns options tokenized with the input', () => {
    const ctx = [1, 10, 11, 12];
    const a = alignContinuations(ctx, [
      [1, 10, 11, 12, 20, 21],
      [1, 10, 11, 30, 31],
    ]);
    expect(a.prefixIds).toEqual([1, 10, 11]);
    expect(a.continuations).toEqual([[12, 20, 21], [30, 31]]);
    expect(a.inputTokens).toEqual([1, 0]);
    expect(() => alignContinuations([5], [[6]])).toThrow(/first token/);
  });
});

describe('hidden states', () => {
  it('has nLayers+1 residual entries of width dim; the last one after final norm × output gives the logits', async () => {
    const m = await stories();
    const { dim, nLayers, vocabSize } = m.weights.config;
    const ids = [BOS, ...m.tokenizer.encode('Lily found a shell')];
    const h = await hiddenStates(m, ids, { position: 'last', modules: ['residual', 'attn', 'mlp'], convention: 'sclab' });
    expect(h.residual).toHaveLength(nLayers + 1);
    expect(h.attn).toHaveLength(nLayers);
    expect(h.mlp).toHaveLength(nLayers);
    for (const v of [...h.residual!, ...h.attn!, ...h.mlp!]) expect(v).toHaveLength(dim);
    expect(h.nTokens).toBe(ids.length);
    // embeddings entry = the last token's embedding row
    const last = ids[ids.length - 1]!;
    expect(Array.from(h.residual![0]!)).toEqual(Array.from((m.weights.tokenEmbedding as Float32Array).subarray(last * dim, (last + 1) * dim)));
    // residual stream bookkeeping: after layer l = before + attention output + MLP output
    for (let l = 1; l <= nLayers; l++) {
      const sum = h.residual![l - 1]!.map((x, i) => x + h.attn![l - 1]![i]! + h.mlp![l - 1]![i]!);
      expect(maxAbsDiff(sum, h.residual![l]!)).toBeLessThan(1e-5);
    }
    const normed = new Float32Array(dim);
    rmsnorm(normed, h.residual![nLayers]!, m.weights.finalNorm, 1, dim, m.weights.config.rmsNormEps);
    const logits = new Float32Array(vocabSize);
    matmul(logits, normed, m.weights.output, 1, dim, vocabSize);
    expect(maxAbsDiff(logits, nextTokenLogits(m, ids))).toBeLessThan(1e-5);

    // HF convention: the same entries, with the final norm applied to the last
    const hf = await hiddenStates(m, ids, { position: 'last', modules: ['residual'], convention: 'hf' });
    for (let l = 0; l < nLayers; l++) expect(Array.from(hf.residual![l]!)).toEqual(Array.from(h.residual![l]!));
    expect(maxAbsDiff(hf.residual![nLayers]!, normed)).toBeLessThan(1e-6);
  });

  it('gives every position for "all"; "last" and "mean" agree with it', async () => {
    const m = await stories();
    const { dim } = m.weights.config;
    const ids = [BOS, ...m.tokenizer.encode('The sun was hot')];
    const n = ids.length;
    for (const convention of ['sclab', 'hf'] as const) {
      const all = await hiddenStates(m, ids, { position: 'all', modules: ['residual', 'mlp'], convention });
      const last = await hiddenStates(m, ids, { position: 'last', modules: ['residual', 'mlp'], convention });
      const mean = await hiddenStates(m, ids, { position: 'mean', modules: ['residual', 'mlp'], convention });
      for (const mod of ['residual', 'mlp'] as const) {
        all[mod]!.forEach((v, l) => {
          expect(v).toHaveLength(n * dim);
          expect(maxAbsDiff(v.subarray((n - 1) * dim), last[mod]![l]!)).toBe(0);
          const avg = Array.from({ length: dim }, (_, i) => {
            let s = 0;
            for (let t = 0; t < n; t++) s += v[t * dim + i]!;
            return s / n;
          });
          expect(maxAbsDiff(avg, mean[mod]![l]!)).toBeLessThan(1e-6);
        });
      }
    }
  });

  it('sees only the tokens before a position (causal): a prefix’s states equal the longer input’s states there', async () => {
    const m = await stories();
    const { dim } = m.weights.config;
    const ids = [BOS, ...m.tokenizer.encode('A bird sang in the tree')];
    const full = await hiddenStates(m, ids, { position: 'all', modules: ['residual'], convention: 'sclab' });
    const prefix = await hiddenStates(m, ids.slice(0, 4), { position: 'last', modules: ['residual'], convention: 'sclab' });
    full.residual!.forEach((v, l) => expect(maxAbsDiff(v.subarray(3 * dim, 4 * dim), prefix.residual![l]!)).toBeLessThan(1e-5));
  });
});
