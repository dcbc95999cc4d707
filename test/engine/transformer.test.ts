// The forward pass against itself (batched vs step by step, chunked vs whole), against weight transformations that
// must not change the logits (RoPE layout, GQA expansion) and against a naive reference on a random model with the
// features stories260K lacks (q/k/v biases, untied output, rotate-half RoPE).
import { describe, expect, it } from 'vitest';
import { nextTokenLogits } from '../../src/core/engine/session';
import { widenedF32, type WeightMatrix } from '../../src/core/engine/kernels';
import { ForwardState } from '../../src/core/engine/transformer';
import type { LayerWeights, LoadedModel, ModelConfig, ModelWeights } from '../../src/core/engine/types';
import { SclabError } from '../../src/core/model/errors';
import { BOS, maxAbsDiff, stories } from './fixtures';

const TEXT = 'Once upon a time, there was a little dog. He liked to run.';

function withWeights(model: LoadedModel, weights: ModelWeights): LoadedModel {
  return { ...model, weights };
}

/** [heads*headDim, dim] rows of each head reordered from interleaved pairs (2j, 2j+1) to halves (j, j+headDim/2) */
function toRotateHalf(matrix: WeightMatrix, heads: number, headDim: number, dim: number): Float32Array {
  const w = widenedF32(matrix);
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < headDim / 2; j++) {
      const from = (r: number): Float32Array => w.subarray((h * headDim + r) * dim, (h * headDim + r + 1) * dim);
      out.set(from(2 * j), (h * headDim + j) * dim);
      out.set(from(2 * j + 1), (h * headDim + j + headDim / 2) * dim);
    }
  }
  return out;
}

/** every key/value head repeated for each query head of its group: plain multi-head attention */
function expandKv(matrix: WeightMatrix, nKv: number, group: number, headDim: number, dim: number): Float32Array {
  const w = widenedF32(matrix);
  const out = new Float32Array(w.length * group);
  for (let kv = 0; kv < nKv; kv++) {
    const rows = w.subarray(kv * headDim * dim, (kv + 1) * headDim * dim);
    for (let g = 0; g < group; g++) out.set(rows, (kv * group + g) * headDim * dim);
  }
  return out;
}

describe('forward pass', () => {
  it('batched prefill gives the same logits as token-by-token decoding (within 1e-5)', async () => {
    const m = await stories();
    const ids = [BOS, ...m.tokenizer.encode(TEXT)];
    const V = m.weights.config.vocabSize;
    const batched = new ForwardState(m.weights);
    const all = batched.forward(ids, { logitsFrom: 0 });
    expect(all.logitRows).toBe(ids.length);
    const rows = all.logits.slice(0, ids.length * V);
    const stepper = new ForwardState(m.weights);
    let worst = 0;
    ids.forEach((id, t) => {
      const one = stepper.forward([id]).logits;
      worst = Math.max(worst, maxAbsDiff(one.subarray(0, V), rows.subarray(t * V, (t + 1) * V)));
    });
    expect(worst).toBeLessThan(1e-5);
    expect(stepper.pos).toBe(ids.length);
  });

  it('splitting a long prompt into chunks changes nothing', async () => {
    const m = await stories();
    const ids = [BOS, ...m.tokenizer.encode(TEXT + ' ' + TEXT)];
    const V = m.weights.config.vocabSize;
    const whole = new ForwardState(m.weights).forward(ids, { logitsFrom: 5 });
    const a = whole.logits.slice(0, whole.logitRows * V);
    const chunked = new ForwardState(m.weights, { maxChunk: 4 }).forward(ids, { logitsFrom: 5 });
    expect(chunked.logitRows).toBe(ids.length - 5);
    expect(maxAbsDiff(chunked.logits.subarray(0, chunked.logitRows * V), a)).toBeLessThan(1e-5);
  });

  it('captures the same hidden states when the input is split into chunks', async () => {
    const m = await stories();
    const ids = [BOS, ...m.tokenizer.encode(TEXT)];
    for (const position of ['last', 'mean', 'all'] as const) {
      const capture = { position, modules: ['residual', 'attn', 'mlp'] as const, convention: 'hf' as const };
      const whole = new ForwardState(m.weights).forward(ids, { capture }).hidden!;
      const chunked = new ForwardState(m.weights, { maxChunk: 5 }).forward(ids, { capture }).hidden!;
      for (const mod of ['residual', 'attn', 'mlp'] as const) {
        whole[mod]!.forEach((v, l) => expect(maxAbsDiff(chunked[mod]![l]!, v)).toBeLessThan(1e-5));
      }
    }
  });

  it('rotate-half RoPE on HF-permuted q/k rows gives the interleaved model’s logits', async () => {
    const m = await stories();
    const c = m.weights.config;
    const hf: ModelWeights = {
      ...m.weights,
      config: { ...c, ropeStyle: 'half' },
      layers: m.weights.layers.map((l) => ({ ...l, wq: toRotateHalf(l.wq, c.nHeads, c.headDim, c.dim), wk: toRotateHalf(l.wk, c.nKvHeads, c.headDim, c.dim) })),
    };
    const ids = [BOS, ...m.tokenizer.encode(TEXT)];
    const ref = nextTokenLogits(m, ids);
    expect(maxAbsDiff(nextTokenLogits(withWeights(m, hf), ids), ref)).toBeLessThan(1e-5);
    // and the permutation is not a no-op: with the wrong style the logits differ
    const wrong: ModelWeights = { ...hf, config: { ...c, ropeStyle: 'interleaved' } };
    expect(maxAbsDiff(nextTokenLogits(withWeights(m, wrong), ids), ref)).toBeGreaterThan(1e-3);
  });

  it('grouped-query attention equals multi-head attention with the key/value heads repeated', async () => {
    const m = await stories();
    const c = m.weights.config;
    const group = c.nHeads / c.nKvHeads;
    expect(group).toBe(2);
    const mha: ModelWeights = {
      ...m.weights,
      config: { ...c, nKvHeads: c.nHeads },
      layers: m.weights.layers.map((l) => ({
        ...l,
        wk: expandKv(l.wk, c.nKvHeads, group, c.headDim, c.dim),
        wv: expandKv(l.wv, c.nKvHeads, group, c.headDim, c.dim),
      })),
    };
    const ids = [BOS, ...m.tokenizer.encode(TEXT)];
    expect(maxAbsDiff(nextTokenLogits(withWeights(m, mha), ids), nextTokenLogits(m, ids))).toBeLessThan(1e-5);
  });

  it('matches a naive reference on a random model with q/k/v biases, untied output and rotate-half RoPE', async () => {
    const w = randomModel({ dim: 24, hiddenDim: 40, nLayers: 2, nHeads: 6, nKvHeads: 2, headDim: 4, vocabSize: 37, maxSeqLen: 64, ropeTheta: 500, ropeStyle: 'half', rmsNormEps: 1e-6, tiedEmbeddings: false, qkvBias: true, family: 'test' });
    const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9];
    const got = new ForwardState(w).forward(ids, { logitsFrom: 0 });
    const want = referenceLogits(w, ids);
    const V = w.config.vocabSize;
    for (let t = 0; t < ids.length; t++) expect(maxAbsDiff(got.logits.subarray(t * V, (t + 1) * V), want[t]!)).toBeLessThan(1e-4);
    // the biases matter: without them the logits move
    const noBias: ModelWeights = { ...w, layers: w.layers.map(({ bq: _q, bk: _k, bv: _v, ...l }) => l) };
    const plain = new ForwardState(noBias).forward(ids);
    expect(maxAbsDiff(plain.logits.subarray(0, V), want[ids.length - 1]!)).toBeGreaterThan(1e-3);
  });

  it('rejects ids outside the vocabulary and contexts longer than the model’s', async () => {
    const m = await stories();
    const s = new ForwardState(m.weights);
    expect(() => s.forward([BOS, 512])).toThrow(/token id 512 is outside the vocabulary/);
    expect(() => s.forward(new Array(513).fill(BOS))).toThrow(SclabError);
    expect(() => s.forward(new Array(513).fill(BOS))).toThrow(/513 tokens exceed the model's context of 512/);
    expect(s.pos).toBe(0);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// A deliberately naive float64 reference: one token at a time, full attention recomputed, no caches, no kernels.

function randomModel(config: ModelConfig): ModelWeights {
  let seed = 12345;
  const rand = (n: number, scale = 0.3): Float32Array =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed / 2147483648 - 0.5) * 2 * scale;
    });
  const { dim, hiddenDim, nHeads, nKvHeads, headDim, vocabSize } = config;
  const layers: LayerWeights[] = Array.from({ length: config.nLayers }, () => ({
    attnNorm: rand(dim).map((x) => 1 + x),
    wq: rand(nHeads * headDim * dim),
    wk: rand(nKvHeads * headDim * dim),
    wv: rand(nKvHeads * headDim * dim),
    wo: rand(dim * nHeads * headDim),
    bq: rand(nHeads * headDim),
    bk: rand(nKvHeads * headDim),
    bv: rand(nKvHeads * headDim),
    ffnNorm: rand(dim).map((x) => 1 + x),
    w1: rand(hiddenDim * dim),
    w2: rand(dim * hiddenDim),
    w3: rand(hiddenDim * dim),
  }));
  return { config, tokenEmbedding: rand(vocabSize * dim, 1), layers, finalNorm: rand(dim).map((x) => 1 + x), output: rand(vocabSize * dim) };
}

function referenceLogits(w: ModelWeights, ids: number[]): number[][] {
  const c = w.config;
  const { dim, headDim, nHeads, nKvHeads } = c;
  const mv = (matrix: WeightMatrix, x: number[], out: number, bias?: Float32Array): number[] => {
    const m = widenedF32(matrix);
    return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + xi * m[o * x.length + i]!, bias ? bias[o]! : 0));
  };
  const norm = (x: number[], g: Float32Array): number[] => {
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + c.rmsNormEps);
    return x.map((v, i) => v * r * g[i]!);
  };
  const rope = (v: number[], pos: number): number[] => {
    const out = v.slice();
    for (let h = 0; h < v.length / headDim; h++) {
      for (let j = 0; j < headDim / 2; j++) {
        const a = pos * Math.pow(c.ropeTheta, (-2 * j) / headDim);
        const i0 = h * headDim + j;
        const i1 = i0 + headDim / 2;
        out[i0] = v[i0]! * Math.cos(a) - v[i1]! * Math.sin(a);
        out[i1] = v[i0]! * Math.sin(a) + v[i1]! * Math.cos(a);
      }
    }
    return out;
  };
  const embedding = widenedF32(w.tokenEmbedding);
  const xs = ids.map((id) => Array.from(embedding.subarray(id * dim, (id + 1) * dim)));
  for (const l of w.layers) {
    const hs = xs.map((x) => norm(x, l.attnNorm));
    const q = hs.map((h, t) => rope(mv(l.wq, h, nHeads * headDim, l.bq), t));
    const k = hs.map((h, t) => rope(mv(l.wk, h, nKvHeads * headDim, l.bk), t));
    const v = hs.map((h) => mv(l.wv, h, nKvHeads * headDim, l.bv));
    xs.forEach((x, t) => {
      const att: number[] = [];
      for (let h = 0; h < nHeads; h++) {
        const kv = Math.floor(h / (nHeads / nKvHeads));
        const s = Array.from({ length: t + 1 }, (_, u) => {
          let d = 0;
          for (let i = 0; i < headDim; i++) d += q[t]![h * headDim + i]! * k[u]![kv * headDim + i]!;
          return d / Math.sqrt(headDim);
        });
        const mx = Math.max(...s);
        const e = s.map((z) => Math.exp(z - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < headDim; i++) att.push(e.reduce((acc, p, u) => acc + (p / z) * v[u]![kv * headDim + i]!, 0));
      }
      const o = mv(l.wo, att, dim);
      for (let i = 0; i < dim; i++) x[i] = x[i]! + o[i]!;
    });
    xs.forEach((x) => {
      const h = norm(x, l.ffnNorm);
      const g = mv(l.w1, h, c.hiddenDim);
      const u = mv(l.w3, h, c.hiddenDim);
      const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]!);
      const o = mv(l.w2, act, dim);
      for (let i = 0; i < dim; i++) x[i] = x[i]! + o[i]!;
    });
  }
  return xs.map((x) => mv(w.output, norm(x, w.finalNorm), c.vocabSize));
}
