// Both cores: a pool of engine workers over ONE copy of the weights (shared-weights.ts, the client's pool). The
// weights are attached, never copied (arena byte counts), and the answers are those of a single engine: bit-identical
// with the prefix cache off, and with it on the same greedy text and numbers within float rounding (a chain's prefill
// may be split differently where another chain's prefix was cached in one engine but not in the other).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbeddedBackend, engineWorkersFor } from '../../src/core/backends/embedded';
import { EngineClient } from '../../src/core/engine/client';
import { loadHfModel } from '../../src/core/engine/hf/load';
import { arenaMemoryOf, arenaUsedBytes, HalfMatrix } from '../../src/core/engine/kernels-wasm';
import { generate, scoreContinuations } from '../../src/core/engine/session';
import { attachWeights, shareWeights, weightBytes } from '../../src/core/engine/shared-weights';
import type { HiddenStates } from '../../src/core/engine/capture';
import type { ContinuationScore, GenerateResult } from '../../src/core/engine/session';
import { writeHfFolder } from '../engine-hf/fixtures';
import { BOS, MODEL_DIR, maxAbsDiff } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sclab-pool-'));
const workerPath = path.join(tmp, 'engine-worker.js');

beforeAll(async () => {
  await build({ entryPoints: [path.join(ROOT, 'src/core/engine/worker.ts')], outfile: workerPath, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shared weights', () => {
  it('attaches a 16-bit Qwen2 model to its memory without copying a byte, and runs it to the same numbers', async () => {
    const folder = writeHfFolder({ family: 'qwen2', dtype: 'BF16', tied: false, dim: 32, nHeads: 4, nKvHeads: 2, hiddenDim: 48, nLayers: 2 });
    const model = await loadHfModel(folder.dir);
    expect(model.weights.layers[0]!.wq).toBeInstanceOf(HalfMatrix);
    const shared = shareWeights(model.weights, model.identity)!;
    expect(shared).not.toBeNull();
    expect(shared.weightBytes).toBe(weightBytes(model.weights));
    const used = arenaUsedBytes(shared.memory);
    expect(used).toBeLessThan(shared.weightBytes + 4096); // the weights, once (plus alignment)

    const { weights } = attachWeights(shared);
    expect(arenaUsedBytes(shared.memory)).toBe(used); // attaching allocates nothing
    const wq = weights.layers[0]!.wq as HalfMatrix;
    const orig = model.weights.layers[0]!.wq as HalfMatrix;
    expect(wq.dtype).toBe('BF16');
    expect(arenaMemoryOf(wq.bits)).toBe(shared.memory);
    expect(wq.bits.byteOffset).toBe(orig.bits.byteOffset);
    expect(weights.layers[1]!.bq).toEqual(model.weights.layers[1]!.bq);
    expect(weights.output).not.toBe(weights.tokenEmbedding);

    const attached = { ...model, weights };
    const ids = [1, 5, 9, 14, 3];
    const params = { maxTokens: 6, temperature: 0, ignoreEos: true, seed: 1 };
    expect(await generate(attached, ids, params)).toEqual(await generate(model, ids, params));
    expect(await scoreContinuations(attached, ids, [[4, 7], [8]])).toEqual(await scoreContinuations(model, ids, [[4, 7], [8]]));
  });

  it('keeps tied embeddings one array', async () => {
    const folder = writeHfFolder({ family: 'llama', dtype: 'F32', tied: true });
    const model = await loadHfModel(folder.dir);
    const shared = shareWeights(model.weights, model.identity)!;
    expect(shared.output).toBeUndefined();
    const { weights } = attachWeights(shared);
    expect(weights.output).toBe(weights.tokenEmbedding);
  });
});

interface ChainAnswers {
  g1: GenerateResult;
  g2: GenerateResult;
  scores: ContinuationScore[];
  hidden: HiddenStates;
}

/** three chains of two rounds each, the second round extending the first's prompt and answer */
async function chains(client: EngineClient): Promise<ChainAnswers[]> {
  const openings = [[BOS, 403, 407], [BOS, 300, 301, 302], [BOS, 410, 263]];
  return Promise.all(
    openings.map(async (open, c) => {
      const affinity = `chain ${c}`;
      const g1 = await client.generate(open, { maxTokens: 8, temperature: 0, topLogprobs: 3, seed: 1 }, { affinity });
      const round2 = [...open, ...g1.tokens, 13, 400 + c];
      const g2 = await client.generate(round2, { maxTokens: 8, temperature: 0, topLogprobs: 3, seed: 1 }, { affinity });
      const scores = await client.score(round2, [[263, 264], [265]], { affinity });
      const hidden = await client.hidden(round2, { position: 'last', modules: ['residual', 'mlp'], convention: 'sclab' }, { affinity });
      return { g1, g2, scores, hidden };
    }),
  );
}

describe('a pool of engine workers', () => {
  let pool: EngineClient | null = null;
  afterAll(async () => pool?.close());

  it('answers exactly as one engine with the prefix cache off, and holds the weights once', async () => {
    const [one, two] = await Promise.all([
      EngineClient.start({ modelSpec: MODEL_DIR, mode: 'in-process', prefixCache: false }),
      EngineClient.start({ modelSpec: MODEL_DIR, workerPath, workers: 2, prefixCache: false }),
    ]);
    pool = two;
    try {
      expect(two.workers).toBe(2);
      expect(await two.info()).toEqual(await one.info());
      expect(await chains(two)).toEqual(await chains(one));

      const stats = await two.stats();
      expect(stats.workers).toHaveLength(2);
      const [a, b] = stats.workers.map((w) => w.memory!);
      // one memory (its id), whose one allocation counter holds the weights once plus each worker's scratch
      expect(a!.arenaId).toBe(b!.arenaId);
      expect(a!.arenaUsedBytes).toBe(b!.arenaUsedBytes);
      expect(a!.weightBytes).toBe(b!.weightBytes);
      expect(a!.arenaUsedBytes).toBeGreaterThanOrEqual(a!.weightBytes);
      expect(a!.arenaUsedBytes).toBeLessThan(2 * a!.weightBytes);
      // a model loaded apart has a memory of its own (the id tells memories apart)
      expect((await one.stats()).workers[0]!.memory!.arenaId).not.toBe(a!.arenaId);
    } finally {
      await one.close();
    }
  });

  it('keeps a chain on one worker and agrees with one engine to float rounding with the prefix cache on', async () => {
    const [one, two] = await Promise.all([
      EngineClient.start({ modelSpec: MODEL_DIR, mode: 'in-process' }),
      EngineClient.start({ modelSpec: MODEL_DIR, workerPath, workers: 2, prefixCache: { budgetBytes: 64 * 2 ** 20 } }),
    ]);
    try {
      const [got, want] = await Promise.all([chains(two), chains(one)]);
      for (let c = 0; c < want.length; c++) {
        const [g, w] = [got[c]!, want[c]!];
        expect(g.g1.text).toBe(w.g1.text);
        expect(g.g2.text).toBe(w.g2.text);
        for (let s = 0; s < w.scores.length; s++) expect(maxAbsDiff(g.scores[s]!.logprobs, w.scores[s]!.logprobs)).toBeLessThan(1e-4);
        const [gh, wh] = [g.hidden.residual!, w.hidden.residual!];
        for (let l = 0; l < wh.length; l++) expect(maxAbsDiff(gh[l]!, wh[l]!)).toBeLessThan(1e-4);
      }
      const stats = await two.stats();
      // the budget is the engine's, split between the workers; both served chains, and rounds found their prefixes
      expect(stats.workers.map((w) => w.prefixCache!.budgetBytes)).toEqual([32 * 2 ** 20, 32 * 2 ** 20]);
      expect(stats.workers.every((w) => w.prefixCache!.lookups > 0)).toBe(true);
      expect(stats.prefixCache!.reusedTokens).toBeGreaterThan(0);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('the run maps onto engine workers', () => {
  it('runs --engine-threads workers (default: the cores), never more than the run has requests in flight', () => {
    expect(engineWorkersFor({ engineThreads: 4, concurrency: 2 })).toBe(2);
    expect(engineWorkersFor({ engineThreads: 2, concurrency: 8 })).toBe(2);
    expect(engineWorkersFor({ engineThreads: 3 })).toBe(3);
    expect(engineWorkersFor({ concurrency: 1 })).toBe(1);
    expect(engineWorkersFor({ concurrency: 64 })).toBe(os.availableParallelism());
  });

  it('records the worker count in the backend notes, and serves two conversations on two workers', async () => {
    const backend = createEmbeddedBackend({ modelSpec: MODEL_DIR, workerPath, mode: 'worker', workers: 2 });
    try {
      const description = await backend.connect();
      expect(description.notes).toContain('engine workers: 2 worker threads sharing one copy of the weights; each chain stays on one worker (its own prefix cache, 2 × the per-worker budget = the budget above)');
      // which kernels ran (--engine-fma auto: fused multiply-add where the runtime has relaxed SIMD, as Node 20 here)
      expect(description.notes).toContainEqual(expect.stringMatching(/^matmul kernels: WebAssembly SIMD128 with relaxed-SIMD multiply-add \((fused|not fused).*; --engine-fma auto\)$/));
      const decoding = { maxTokens: 6, temperature: 0, topP: 1, stop: [], topLogprobs: 0, seed: 1 };
      const ask = (content: string) => backend.chat({ messages: [{ role: 'user', content }], prefill: 'Once', decoding });
      const [a, b] = await Promise.all([ask('Tell a story about a cat'), ask('Tell a story about a dog')]);
      expect(a.text.length).toBeGreaterThan(0);
      expect(b.text.length).toBeGreaterThan(0);
      const notes = await backend.runNotes!();
      expect(notes.join('\n')).toMatch(/prefix cache: \d+ prompt tokens reused over 2 lookups/);
      const served = /^engine workers: worker 1 answered (\d+) requests in [\d.]+ s; worker 2 answered (\d+) requests/.exec(notes[0]!);
      expect(Number(served![1]) + Number(served![2])).toBe(2);
    } finally {
      await backend.close();
    }
  });
});

describe('one forward split over threads (the benchmark switch)', () => {
  it('gives the same numbers to the bit as one thread, fp32 and 16-bit, with fused multiply-add and without', async () => {
    const helperPath = path.join(tmp, 'engine-matmul-helper.js');
    await build({ entryPoints: [path.join(ROOT, 'src/core/engine/matmul-helper.ts')], outfile: helperPath, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
    // wide enough that the matmuls pass the split threshold; an odd vocabulary exercises the last band's remainder
    for (const [dtype, fma] of [['F32', 'on'], ['F16', 'on'], ['F32', 'off'], ['F16', 'off']] as const) {
      const folder = writeHfFolder({ family: 'qwen2', dtype, tied: false, dim: 256, nHeads: 4, nKvHeads: 2, hiddenDim: 512, nLayers: 2 });
      const [one, split] = await Promise.all([
        EngineClient.start({ modelSpec: folder.dir, workerPath, prefixCache: false, fma }),
        EngineClient.start({ modelSpec: folder.dir, workerPath, prefixCache: false, matmulThreads: 3, fma }),
      ]);
      try {
        // the helpers attach to the model's memory and take its kernels from it
        expect((await split.info()).kernels).toMatch(fma === 'on' ? /relaxed-SIMD multiply-add/ : /multiply then add \(--engine-fma off\)/);
        const ids = Array.from({ length: 40 }, (_, i) => (i * 7) % folder.vocab);
        const params = { maxTokens: 5, temperature: 0, ignoreEos: true, seed: 1, topLogprobs: 2 };
        expect(await split.generate(ids, params)).toEqual(await one.generate(ids, params));
        const capture = { position: 'all' as const, modules: ['residual' as const, 'attn' as const], convention: 'sclab' as const };
        expect(await split.hidden(ids, capture)).toEqual(await one.hidden(ids, capture));
      } finally {
        await Promise.all([one.close(), split.close()]);
      }
    }
  });
});
