// bench:engine section 7 (SCLAB_BENCH_ONLY=7): both cores. The two ways to use N threads, measured side by side on
// SmolLM2-135M and Qwen2.5-0.5B shapes (random BF16 weights kept 16-bit, the format checkpoints ship in):
//   pool  — N engine workers over one copy of the weights, each serving its own requests (the default: client.ts)
//   split — one engine worker whose big matmuls are split by output columns over N threads (matmul-team.ts)
// Each configuration serves the same two requests (two different prompts): one at a time for 1 thread and split, both
// at once for the pool; a warm-up, then the medians of 3. Prefill: a SCLAB_BENCH_PREFILL-token prompt (default 64), one token generated; decode: an
// 8-token prompt and SCLAB_BENCH_DECODE tokens (default 16). Tokens/s by wall clock and by the process's CPU time
// (every thread of the process), with the load average around each figure and the cores the process got (CPU seconds
// per wall second): on a shared machine that caps a container's share, 2-thread wall figures show the cap, not the
// engine; the CPU figures and the split's Amdahl ceiling (measured on one thread) do not depend on it. Then the paper-bbq preset end to end on SCLAB_BENCH_ITEMS7 items (default 2) at concurrency 2:
// 1 worker against the pool of 2 (and the split engine), records/s and whether the answers agree.
// SCLAB_BENCH_SHAPES=SmolLM2-135M picks the shapes, SCLAB_BENCH_THREADS the thread count (default 2).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineClient } from '../src/core/engine/client';
import { loadHfModel } from '../src/core/engine/hf/load';
import { arenaMemoryOf, HalfMatrix, kernelArenaOf, matmulColumns, setColumnSplitter } from '../src/core/engine/kernels-wasm';
import { MIN_SPLIT_MACS } from '../src/core/engine/matmul-team';
import { ForwardState } from '../src/core/engine/transformer';
import { chatmlTokenizerJson } from '../test/engine-hf/fixtures';
import { machineLoad, maxDifference, prepareEndToEnd, runEndToEnd, writeRandomSafetensors, type EndToEndResult } from './engine-e2e';

interface Shape {
  name: string;
  modelType: 'llama' | 'qwen2';
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
}

const SHAPES: Shape[] = [
  { name: 'SmolLM2-135M', modelType: 'llama', dim: 576, hiddenDim: 1536, nLayers: 30, nHeads: 9, nKvHeads: 3, vocab: 49152 },
  { name: 'Qwen2.5-0.5B', modelType: 'qwen2', dim: 896, hiddenDim: 4864, nLayers: 24, nHeads: 14, nKvHeads: 2, vocab: 151936 },
];

const fmt = (x: number, d = 1): string => x.toFixed(d);

/** a Hugging Face folder of the shape: config, a small ChatML tokenizer (requests here send ids), BF16 safetensors */
async function writeShapeFolder(dir: string, s: Shape): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: [s.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
      model_type: s.modelType,
      hidden_size: s.dim,
      intermediate_size: s.hiddenDim,
      num_hidden_layers: s.nLayers,
      num_attention_heads: s.nHeads,
      num_key_value_heads: s.nKvHeads,
      hidden_act: 'silu',
      max_position_embeddings: 4096,
      rms_norm_eps: 1e-6,
      rope_theta: 100000,
      tie_word_embeddings: true,
      vocab_size: s.vocab,
      torch_dtype: 'bfloat16',
    }),
  );
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(chatmlTokenizerJson().json));
  await writeRandomSafetensors(path.join(dir, 'model.safetensors'), { ...s, qkvBias: s.modelType === 'qwen2' });
}

/**
 * The share of a 1-thread forward pass spent in the matmuls the split engine would split (timed one by one in this
 * thread, so the load of the machine cancels out of the ratio), and what that allows the split at N threads at best
 * (Amdahl: the rest runs on one thread). A pool has no such serial part: each worker runs whole requests.
 */
async function splittableShare(modelDir: string, prefill: number[], decodeSteps: number): Promise<{ prefill: number; decode: number }> {
  const model = await loadHfModel(modelDir);
  const first = model.weights.tokenEmbedding;
  const arena = kernelArenaOf(arenaMemoryOf(first instanceof HalfMatrix ? first.bits : first)!);
  let inSplit = 0;
  setColumnSplitter(arena, {
    split(t) {
      if (t.rows * t.inDim * t.outDim < MIN_SPLIT_MACS) return false;
      const t0 = performance.now();
      matmulColumns(arena, t, 0, t.outDim);
      inSplit += performance.now() - t0;
      return true;
    },
  });
  const share = (f: () => void): number => {
    inSplit = 0;
    const t0 = performance.now();
    f();
    return inSplit / (performance.now() - t0);
  };
  new ForwardState(model.weights).forward(prefill.slice(0, 8)); // warm-up
  const pre = share(() => new ForwardState(model.weights).forward(prefill));
  const state = new ForwardState(model.weights);
  state.forward(prefill.slice(0, 8));
  const dec = share(() => {
    for (let i = 0; i < decodeSteps; i++) state.forward([prefill[i]!]);
  });
  return { prefill: pre, decode: dec };
}

const amdahl = (p: number, n: number): number => 1 / (1 - p + p / n);

interface Config {
  label: string;
  workers: number;
  matmulThreads: number;
}

interface Measured {
  wall: number;
  cpu: number;
  load: string;
  tokens: number[][];
}

interface Workload {
  prompts: number[][];
  maxTokens: number;
  /** tokens a request counts for the rate */
  counted: (promptLen: number) => number;
}

/** the two requests (all at once for a pool, else one after the other); their tokens */
async function serve(client: EngineClient, w: Workload): Promise<number[][]> {
  const params = { maxTokens: w.maxTokens, temperature: 0, ignoreEos: true, seed: 1 };
  if (client.workers > 1) return (await Promise.all(w.prompts.map((p, i) => client.generate(p, params, { affinity: String(i) })))).map((r) => r.tokens);
  const out: number[][] = [];
  for (const p of w.prompts) out.push((await client.generate(p, params)).tokens);
  return out;
}

/**
 * Every configuration on the workload: a warm-up each, then 3 rounds that take the configurations in turn (so that
 * the machine's changing load falls on all of them alike); medians of tokens/s by wall clock and by CPU time.
 */
async function measure(clients: EngineClient[], w: Workload): Promise<Measured[]> {
  const tokens: number[][][] = [];
  for (const c of clients) tokens.push(await serve(c, w));
  const n = w.prompts.reduce((a, p) => a + w.counted(p.length), 0);
  const walls: number[][] = clients.map(() => []);
  const cpus: number[][] = clients.map(() => []);
  const load0 = os.loadavg()[0]!.toFixed(2);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < clients.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await serve(clients[i]!, w);
      walls[i]!.push(n / ((performance.now() - t0) / 1000));
      const c = process.cpuUsage(c0);
      cpus[i]!.push(n / ((c.user + c.system) / 1e6));
    }
  }
  const load = `${load0}→${os.loadavg()[0]!.toFixed(2)}`;
  return clients.map((_, i) => ({ wall: median(walls[i]!), cpu: median(cpus[i]!), load, tokens: tokens[i]! }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchShape(shape: Shape, dir: string, configs: Config[], workerPath: string): Promise<void> {
  const prefillN = Number(process.env.SCLAB_BENCH_PREFILL ?? 64);
  const decodeN = Math.max(2, Number(process.env.SCLAB_BENCH_DECODE ?? 16));
  const modelDir = path.join(dir, shape.name);
  await writeShapeFolder(modelDir, shape);
  const prompt = (seed: number, n: number): number[] => Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + seed * 104729) % (shape.vocab - 3)));
  console.log(`   ${shape.name} (BF16, ${shape.nLayers} layers, width ${shape.dim}), tokens/s wall | CPU, medians of 3 interleaved rounds [1-min load before→after]:`);
  const share = await splittableShare(modelDir, prompt(9, prefillN), decodeN);
  const n = Math.max(...configs.map((c) => c.matmulThreads));
  console.log(
    `     split-able matmuls (≥ ${MIN_SPLIT_MACS} multiply-adds) take ${fmt(100 * share.prefill)} % of a 1-thread prefill, ${fmt(100 * share.decode)} % of decode: ` +
      `the split's ceiling at ${n} threads is ${fmt(amdahl(share.prefill, n), 2)}× (prefill), ${fmt(amdahl(share.decode, n), 2)}× (decode); a pool's is ${n}×`,
  );
  const clients: EngineClient[] = [];
  try {
    for (const c of configs) clients.push(await EngineClient.start({ modelSpec: modelDir, workerPath, workers: c.workers, matmulThreads: c.matmulThreads, prefixCache: false }));
    // prefill: the tokens of the prompt (the one generated token's step is included: a forward must end so)
    const pre = await measure(clients, { prompts: [prompt(1, prefillN), prompt(2, prefillN)], maxTokens: 1, counted: (n) => n });
    // decode: generated tokens after the first (the first comes from the prompt's forward)
    const dec = await measure(clients, { prompts: [prompt(3, 8), prompt(4, 8)], maxTokens: decodeN, counted: () => decodeN - 1 });
    for (const [kind, ms] of [['prefill', pre], ['decode ', dec]] as const) {
      const [one] = ms;
      console.log(`     ${kind} [${one!.load}]`);
      ms.forEach((m, i) => {
        const same = i === 0 ? '' : JSON.stringify(m.tokens) === JSON.stringify(one!.tokens) ? ', same tokens' : ', TOKENS DIFFER';
        const ratio = i === 0 ? '' : ` = ${fmt(m.wall / one!.wall, 2)}× wall, ${fmt(m.cpu / one!.cpu, 2)}× CPU of 1 thread${same}`;
        // CPU seconds per wall second: the cores the process actually got (a shared machine may give it less than asked)
        console.log(`       ${configs[i]!.label.padEnd(24)} ${fmt(m.wall, 2).padStart(7)} | ${fmt(m.cpu, 2).padStart(7)}  (${fmt(m.wall / m.cpu, 2)} cores)${ratio}`);
      });
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    rmSync(modelDir, { recursive: true, force: true });
  }
}

async function benchEndToEndThreads(dir: string, threads: number, workerPath: string): Promise<void> {
  const items = Number(process.env.SCLAB_BENCH_ITEMS7 ?? 2);
  console.log(`\n   end to end: paper-bbq, ${items} BBQ items, residual probe on every layer, random SmolLM2-135M-shaped BF16 model, concurrency ${threads}`);
  const paths = await prepareEndToEnd(dir, items);
  const runs: EndToEndResult[] = [];
  for (const c of [
    { label: '1 worker', workers: 1, matmulThreads: 1 },
    { label: `pool of ${threads} workers`, workers: threads, matmulThreads: 1 },
    { label: `split over ${threads} threads`, workers: 1, matmulThreads: threads },
  ]) {
    const before = os.loadavg()[0]!.toFixed(2);
    const r = await runEndToEnd(c.label.split(' ')[0]!, paths, dir, { prefixCache: { budgetBytes: 512 * 2 ** 20 }, workerPath, concurrency: threads, workers: c.workers, matmulThreads: c.matmulThreads });
    runs.push(r);
    const ratio = runs.length > 1 ? `; ${fmt(runs[0]!.seconds / r.seconds, 2)}× wall, ${fmt(runs[0]!.cpuSeconds / r.cpuSeconds, 2)}× CPU of 1 worker` : '';
    for (const note of r.notes.filter((n) => n.startsWith('engine workers: worker'))) console.log(`     (${note})`);
    console.log(`     ${c.label.padEnd(24)} ${r.records} records (${r.errors} errors) in ${fmt(r.seconds)} s = ${fmt(r.records / r.seconds, 3)} records/s; CPU ${fmt(r.cpuSeconds)} s (${fmt(r.cpuSeconds / r.seconds, 2)} cores); peak RSS ${fmt(r.peakRssMiB, 0)} MiB [load ${before}→${os.loadavg()[0]!.toFixed(2)}]${ratio}`);
  }
  const [one] = runs;
  for (const r of runs.slice(1)) {
    let same = 0;
    for (const [k, v] of one!.responses) if (r.responses.get(k) === v) same++;
    console.log(`     ${r.label}: identical greedy answers ${same}/${one!.responses.size}; largest difference of probe cosines ${maxDifference(one!.probeCosines, r.probeCosines).toExponential(2)}, of option log-probs ${maxDifference(one!.optionLogprobs, r.optionLogprobs).toExponential(2)}`);
  }
}

export async function benchThreads(): Promise<void> {
  const threads = Number(process.env.SCLAB_BENCH_THREADS ?? 2);
  const only = process.env.SCLAB_BENCH_SHAPES?.split(',');
  console.log(`\n7. both cores: a pool of ${threads} workers over one copy of the weights vs one forward split over ${threads} threads, against 1 thread (${machineLoad()})`);
  const workerPath = path.resolve(__dirname, '..', 'engine-worker.js');
  const configs: Config[] = [
    { label: '1 thread', workers: 1, matmulThreads: 1 },
    { label: `split over ${threads} threads`, workers: 1, matmulThreads: threads },
    { label: `pool of ${threads} workers`, workers: threads, matmulThreads: 1 },
  ];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-bench-threads-'));
  try {
    for (const shape of SHAPES.filter((s) => !only || only.includes(s.name))) await benchShape(shape, dir, configs, workerPath);
    if (process.env.SCLAB_BENCH_E2E7 !== '0') await benchEndToEndThreads(dir, threads, workerPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
