// `npm run bench:engine`: the embedded engine's speed, side by side with llama.cpp, in one run (about a minute).
//   1. matmul kernels, GFLOP/s: naive, blocked JS, WebAssembly SIMD (operands copied in / resident via allocF32)
//   2. stories260K greedy decode, tokens/s, 1 thread each: our engine vs llama.cpp (node-llama-cpp), same prompt,
//      256 tokens, a warm-up then the median of 3; ratio ours / llama.cpp (goal ≥ 1.0). By wall clock and by CPU
//      time of the process: on a busy shared machine the CPU-time figures are the steadier ones.
//   3. a 200-token prefill capturing every layer (residual, attn, mlp at all positions) on a random-weight model of
//      SmolLM2-135M shapes (goal ≤ 3 s on one core)
//   4. end to end: the paper-bbq preset on BBQ items with a residual probe on every layer, random-weight model of
//      SmolLM2-135M shapes with a ChatML template, through the embedded backend: records/s and peak memory of the
//      three-pass path (prefix cache off) against the one-pass path, same run (goal ≥ 4×, identical greedy answers)
//   5. memory release: RSS of an in-process engine on that model after load and after close (twice)
// Timings on a shared machine vary by ±40 %; compare figures from the same run (and prefer the CPU-time columns).
//   6. prefill and decode tokens/s on SmolLM2-135M and Qwen2.5-0.5B shapes (random weights), 1 thread, F32 and F16,
//      against llama.cpp on the same weights as GGUF (bench/engine-shapes.ts)
//   7. both cores: a pool of workers over one copy of the weights vs one forward split over threads, prefill and
//      decode at 1 and 2 threads on the same shapes, and paper-bbq end to end at 1 vs 2 workers (bench/engine-threads.ts;
//      SCLAB_BENCH_ONLY=7)
// SCLAB_BENCH_ITEMS=n runs section 4 on n items (default 24); SCLAB_BENCH_ONLY=4 or 6 runs that section alone;
// SCLAB_BENCH_SHAPES=SmolLM2-135M picks section 6's shapes, SCLAB_BENCH_PREFILL / SCLAB_BENCH_DECODE its token counts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineClient } from '../src/core/engine/client';
import { allocF32, matmul, matmulJs, wasmKernelsAvailable, widenedF32, type WeightMatrix } from '../src/core/engine/kernels';
import { loadLlama2c } from '../src/core/engine/llama2c';
import { argmax } from '../src/core/engine/ops';
import { ForwardState } from '../src/core/engine/transformer';
import type { LayerWeights, ModelConfig, ModelWeights } from '../src/core/engine/types';
import { loadLlamaCpp } from './support/llamacpp';
import { machineLoad, maxDifference, prepareEndToEnd, runEndToEnd, type EndToEndResult } from './engine-e2e';
import { llama2cToGguf } from '../test/support/gguf';
import { benchShapes } from './engine-shapes';
import { benchThreads } from './engine-threads';

const MODEL_DIR = path.resolve(__dirname, '../../test/fixtures/models/stories260K');
const BIN = path.join(MODEL_DIR, 'stories260K.bin');
const TOK = path.join(MODEL_DIR, 'tok512.bin');
const DECODE_TOKENS = 256;
const PREFILL_TOKENS = 200;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** wall and CPU seconds of f (CPU time of the whole process, llama.cpp's native threads included) */
async function timed<T>(f: () => T | Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6, value };
}

interface Rate {
  wall: number;
  cpu: number;
}
/** warm-up, then the medians of 3 runs of tokens/s by wall clock and by CPU time */
async function rate(run: () => number[] | Promise<number[]>): Promise<Rate & { tokens: number[] }> {
  const first = await timed(run);
  const rs = [await timed(run), await timed(run), await timed(run)];
  return {
    wall: median(rs.map((r) => r.value.length / r.wall)),
    cpu: median(rs.map((r) => r.value.length / r.cpu)),
    tokens: first.value,
  };
}
const fmt = (x: number, d = 1): string => x.toFixed(d);

function random(n: number, seed: number, scale: number, into?: Float32Array): Float32Array {
  const a = into ?? new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 31 - 1) * scale;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. kernels

function naive(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
      out[r * outDim + o] = s;
    }
  }
}

/** GFLOP/s of f over ~budgetMs after one warm-up call */
function gflops(f: () => void, flops: number, budgetMs: number): number {
  f();
  const t0 = performance.now();
  let n = 0;
  do {
    f();
    n++;
  } while (performance.now() - t0 < budgetMs);
  return (flops * n) / ((performance.now() - t0) * 1e6);
}

function benchKernels(): void {
  console.log(`\n1. matmul kernels (GFLOP/s; WebAssembly SIMD ${wasmKernelsAvailable() ? 'available' : 'UNAVAILABLE'})`);
  const shapes: Array<[string, number, number, number]> = [
    ['256³', 256, 256, 256],
    ['prefill q/o 200×576→576', 200, 576, 576],
    ['prefill gate/up 200×576→1536', 200, 576, 1536],
    ['prefill down 200×1536→576', 200, 1536, 576],
    ['decode stories260K 1×64→172', 1, 64, 172],
    ['decode SmolLM2 1×576→1536', 1, 576, 1536],
  ];
  console.log(`   ${'shape'.padEnd(30)} ${'naive'.padStart(7)} ${'JS 2×4'.padStart(7)} ${'SIMD'.padStart(7)} ${'SIMD res.'.padStart(9)}`);
  for (const [name, rows, inDim, outDim] of shapes) {
    const x = random(rows * inDim, 1, 1);
    const w = random(outDim * inDim, 2, 1);
    const out = new Float32Array(rows * outDim);
    const xr = allocF32(x.length);
    const wr = allocF32(w.length);
    const outr = allocF32(out.length);
    xr.set(x);
    wr.set(w);
    const fl = 2 * rows * inDim * outDim;
    const budget = 250;
    const g = [
      rows * inDim * outDim <= 20e6 ? gflops(() => naive(out, x, w, rows, inDim, outDim), fl, budget) : Number.NaN,
      gflops(() => matmulJs(out, x, w, rows, inDim, outDim), fl, budget),
      gflops(() => matmul(out, x, w, rows, inDim, outDim), fl, budget),
      gflops(() => matmul(outr, xr, wr, rows, inDim, outDim), fl, budget),
    ];
    console.log(`   ${name.padEnd(30)} ${g.map((v, i) => (Number.isNaN(v) ? '—' : fmt(v, 2)).padStart(i === 3 ? 9 : 7)).join(' ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. decode

/** a copy of the weights whose tensors live in the SIMD kernels' memory (no copy per matmul) */
function residentWeights(w: ModelWeights): ModelWeights {
  const put = (w: WeightMatrix): Float32Array => {
    const a = widenedF32(w);
    const r = allocF32(a.length);
    r.set(a);
    return r;
  };
  const tokenEmbedding = put(w.tokenEmbedding);
  const layers = w.layers.map((l) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, put(v as Float32Array)])) as unknown as LayerWeights);
  const output = w.output === w.tokenEmbedding ? tokenEmbedding : put(w.output);
  return { config: w.config, tokenEmbedding, layers, finalNorm: put(w.finalNorm), output };
}

/** `DECODE_TOKENS` greedy tokens after prompt with our engine (forward pass and argmax, as generate() does) */
function ourDecode(weights: ModelWeights, prompt: number[]): number[] {
  const state = new ForwardState(weights);
  const V = weights.config.vocabSize;
  let logits = state.forward(prompt).logits;
  const tokens: number[] = [];
  const next = [0];
  for (let i = 0; i < DECODE_TOKENS; i++) {
    const id = argmax(logits, 0, V);
    tokens.push(id);
    if (i === DECODE_TOKENS - 1) break;
    next[0] = id;
    logits = state.forward(next).logits;
  }
  return tokens;
}

async function benchDecode(): Promise<void> {
  console.log(`\n2. stories260K greedy decode, ${DECODE_TOKENS} tokens, 1 thread, warm-up + median of 3 (tokens/s by wall clock | by CPU time)`);
  const model = await loadLlama2c(BIN, TOK);
  const prompt = [1, ...model.tokenizer.encode('Once upon a time')];
  const plain = await rate(() => ourDecode(model.weights, prompt));
  const residentCopy = residentWeights(model.weights);
  const resident = await rate(() => ourDecode(residentCopy, prompt));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-bench-'));
  let cpp: (Rate & { tokens: number[] }) | null = null;
  try {
    const gguf = path.join(dir, 'stories260K.gguf');
    llama2cToGguf(BIN, TOK, gguf);
    const m = await loadLlamaCpp(gguf, 512);
    cpp = await rate(() => m.greedy(prompt, DECODE_TOKENS));
    await m.dispose();
  } catch (e) {
    console.log(`   llama.cpp could not run: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (label: string, r: Rate): string =>
    `   ${label.padEnd(34)} ${fmt(r.wall, 0).padStart(6)} | ${fmt(r.cpu, 0).padStart(6)} tokens/s` +
    (cpp && r !== cpp ? `   ratio to llama.cpp ${fmt(r.wall / cpp.wall, 2)} | ${fmt(r.cpu / cpp.cpu, 2)}` : '');
  console.log(row('ours, weights as the loader gives', plain));
  console.log(row('ours, weights in kernel memory', resident));
  if (cpp) {
    console.log(row('llama.cpp (node-llama-cpp 3.21.1)', cpp));
    const same = cpp.tokens.length === plain.tokens.length && cpp.tokens.every((t, i) => t === plain.tokens[i]);
    console.log(`   same ${DECODE_TOKENS} greedy tokens in both engines: ${same ? 'yes' : 'NO'}   (goal: ratio ≥ 1.0)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. prefill

const SMOLLM2_135M: ModelConfig = {
  family: 'llama',
  dim: 576,
  hiddenDim: 1536,
  nLayers: 30,
  nHeads: 9,
  nKvHeads: 3,
  headDim: 64,
  vocabSize: 49152,
  maxSeqLen: 8192,
  ropeTheta: 100000,
  ropeStyle: 'half',
  rmsNormEps: 1e-5,
  tiedEmbeddings: true,
  qkvBias: false,
};

function randomWeights(c: ModelConfig, alloc: (n: number) => Float32Array): ModelWeights {
  let seed = 7;
  const mat = (n: number, scale = 0.05): Float32Array => random(n, seed++, scale, alloc(n));
  const ones = (n: number): Float32Array => alloc(n).fill(1);
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const layers: LayerWeights[] = Array.from({ length: c.nLayers }, () => ({
    attnNorm: ones(c.dim),
    wq: mat(q * c.dim),
    wk: mat(kv * c.dim),
    wv: mat(kv * c.dim),
    wo: mat(c.dim * q),
    ffnNorm: ones(c.dim),
    w1: mat(c.hiddenDim * c.dim),
    w2: mat(c.dim * c.hiddenDim),
    w3: mat(c.hiddenDim * c.dim),
  }));
  const tokenEmbedding = mat(c.vocabSize * c.dim, 1);
  return { config: c, tokenEmbedding, layers, finalNorm: ones(c.dim), output: tokenEmbedding };
}

async function benchPrefill(label: string, weights: ModelWeights): Promise<void> {
  const ids = Array.from({ length: PREFILL_TOKENS }, (_, i) => (i * 7919 + 13) % weights.config.vocabSize);
  const capture = { position: 'all', modules: ['residual', 'attn', 'mlp'], convention: 'sclab' } as const;
  const run = (): void => {
    const r = new ForwardState(weights).forward(ids, { logitsFrom: ids.length, capture });
    if (r.hidden?.residual?.length !== weights.config.nLayers + 1) throw new Error('capture missing layers');
  };
  run(); // warm-up
  const ts = [await timed(run), await timed(run), await timed(run)];
  console.log(`   ${label.padEnd(34)} ${fmt(median(ts.map((t) => t.wall)), 2)} s wall | ${fmt(median(ts.map((t) => t.cpu)), 2)} s CPU   (goal ≤ 3 s)`);
}

async function benchEndToEnd(): Promise<void> {
  const items = Number(process.env.SCLAB_BENCH_ITEMS ?? 24);
  console.log(`\n4. end to end: paper-bbq preset, ${items} BBQ items (Religion, ambiguous), residual probe on all 31 layers, random SmolLM2-135M-shaped model (BF16 safetensors, ChatML), embedded backend worker, concurrency 1`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-bench-e2e-'));
  try {
    const paths = await prepareEndToEnd(dir, items);
    const workerPath = path.resolve(__dirname, '..', 'engine-worker.js');
    const runs: EndToEndResult[] = [];
    for (const [label, prefixCache] of [
      ['three-pass (cache off)', false],
      ['one-pass + prefix cache', { budgetBytes: 512 * 2 ** 20 }],
    ] as const) {
      const before = machineLoad();
      const r = await runEndToEnd(label.split(' ')[0]!, paths, dir, { prefixCache, workerPath, concurrency: 1 });
      runs.push(r);
      console.log(
        `   ${label.padEnd(26)} ${r.records} records (${r.errors} errors) in ${fmt(r.seconds)} s = ${fmt(r.records / r.seconds, 2)} records/s; CPU ${fmt(r.cpuSeconds)} s; ` +
          `peak RSS ${fmt(r.peakRssMiB, 0)} MiB   [${before} → ${machineLoad()}]`,
      );
    }
    const [old, now] = runs as [EndToEndResult, EndToEndResult];
    let same = 0;
    for (const [k, v] of old.responses) if (now.responses.get(k) === v) same++;
    console.log(`   speed-up ${fmt(old.seconds / now.seconds, 2)}× by wall clock, ${fmt(old.cpuSeconds / now.cpuSeconds, 2)}× by CPU time   (goal ≥ 4×)`);
    console.log(`   identical greedy answers: ${same}/${old.responses.size}; largest difference of probe cosines ${maxDifference(old.probeCosines, now.probeCosines).toExponential(2)}, of option log-probs ${maxDifference(old.optionLogprobs, now.optionLogprobs).toExponential(2)}`);
    for (const n of now.notes.filter((x) => x.startsWith('prefix cache:'))) console.log(`   run note: ${n}`);
    await benchRelease(paths.modelDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 5. memory goes back: RSS after loading the model in-process, and after closing the engine (and a GC) */
async function benchRelease(modelDir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));
  // array buffers are swept after a GC on a background thread: collect, let it sweep, twice
  const rss = async (): Promise<number> => {
    for (let i = 0; i < 2; i++) {
      gc?.();
      await settle();
    }
    return process.memoryUsage().rss / 2 ** 20;
  };
  console.log(`\n5. memory release, in-process engine on the same model, load → close twice (RSS in MiB${gc ? ', after a full GC' : '; run node with --expose-gc for steady figures'})`);
  const row: string[] = [`start ${fmt(await rss(), 0)}`];
  for (let i = 0; i < 2; i++) {
    const client = await EngineClient.start({ modelSpec: modelDir, mode: 'in-process' });
    await client.hidden((await client.tokenize(['Who was it?']))[0]!, { position: 'last', modules: ['residual'], convention: 'sclab' });
    row.push(`loaded ${fmt(await rss(), 0)}`);
    await client.close();
    row.push(`closed ${fmt(await rss(), 0)}`);
  }
  console.log(`   ${row.join(' → ')}   [${machineLoad()}]`);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`engine bench — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os.loadavg().map((l) => fmt(l, 2)).join(' ')}`);
  const only = process.env.SCLAB_BENCH_ONLY;
  if (only === '6') {
    await benchShapes();
    return;
  }
  if (only === '7') {
    await benchThreads();
    return;
  }
  if (only !== '4') {
    benchKernels();
    await benchDecode();
    console.log(`\n3. ${PREFILL_TOKENS}-token prefill capturing every layer, random weights, SmolLM2-135M shapes, 1 thread, warm-up + median of 3`);
    // both loaders (llama2.c and safetensors) put the weights in the kernels' memory (allocF32), as here
    await benchPrefill('weights as the loaders place them', randomWeights(SMOLLM2_135M, allocF32));
  }
  await benchEndToEnd();
  if (only !== '4') {
    await benchShapes();
    await benchThreads();
  }
  console.log(`\ntotal ${fmt((performance.now() - t0) / 1000)} s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
