// bench:engine section 6: prefill and decode tokens/s of real model shapes (SmolLM2-135M, Qwen2.5-0.5B) with random
// weights, F32 and F16, our engine against llama.cpp on the very same weights written as GGUF: at 1 thread, then at
// SCLAB_BENCH_THREADS (default 2; 1 skips it) — ours with one forward's matmuls split over the threads (matmul-team.ts:
// one sequence cannot use the pool of workers, which serves different requests), llama.cpp with that many threads.
// Both engines get the same model: the F16 weights are drawn once and the F32 model is their exact widening.
// Our F16 run keeps the weights 16-bit (HalfMatrix, widened in the kernels); llama.cpp's F16 run uses its F16 path.
// SCLAB_BENCH_PREFILL / SCLAB_BENCH_DECODE set the token counts (default 64 / 16: short, for a shared machine).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HalfMatrix, newKernelArena, widenedF32, type KernelArena, type WeightMatrix } from '../src/core/engine/kernels';
import { arenaMemoryOf, configureKernels, describeKernels } from '../src/core/engine/kernels-wasm';
import { MatmulTeam } from '../src/core/engine/matmul-team';
import { argmax } from '../src/core/engine/ops';
import { ForwardState } from '../src/core/engine/transformer';
import type { LayerWeights, ModelConfig, ModelWeights } from '../src/core/engine/types';
import { syntheticLlamaVocab, writeGguf, type GgufTensor, type GgufValue } from '../test/support/gguf';
import { machineLoad } from './engine-e2e';
import { loadLlamaCpp } from './support/llamacpp';

interface Shape {
  name: string;
  /** llama.cpp architecture: llama (interleaved RoPE) or qwen2 (rotate-half RoPE, q/k/v biases) */
  arch: 'llama' | 'qwen2';
  config: ModelConfig;
}

const SHAPES: Shape[] = [
  {
    name: 'SmolLM2-135M',
    arch: 'llama',
    config: {
      family: 'llama', dim: 576, hiddenDim: 1536, nLayers: 30, nHeads: 9, nKvHeads: 3, headDim: 64, vocabSize: 49152,
      maxSeqLen: 8192, ropeTheta: 100000, ropeStyle: 'interleaved', rmsNormEps: 1e-5, tiedEmbeddings: true, qkvBias: false,
    },
  },
  {
    name: 'Qwen2.5-0.5B',
    arch: 'qwen2',
    config: {
      family: 'qwen2', dim: 896, hiddenDim: 4864, nLayers: 24, nHeads: 14, nKvHeads: 2, headDim: 64, vocabSize: 151936,
      maxSeqLen: 32768, ropeTheta: 1000000, ropeStyle: 'half', rmsNormEps: 1e-6, tiedEmbeddings: true, qkvBias: true,
    },
  },
];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp32 → IEEE binary16 bits, rounded to nearest even */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const e = ((b >>> 23) & 0xff) - 127 + 15;
  let m = b & 0x7fffff;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** the model's tensors as F16 bits (matrices) and fp32 (norms, biases), drawn from a fixed seed */
interface HalfModel {
  matrices: Map<string, { shape: number[]; bits: Uint16Array }>;
  vectors: Map<string, Float32Array>;
}

function drawModel(c: ModelConfig): HalfModel {
  let s = 12345;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
  const matrices = new Map<string, { shape: number[]; bits: Uint16Array }>();
  const vectors = new Map<string, Float32Array>();
  const mat = (name: string, shape: number[], scale: number): void => {
    const bits = new Uint16Array(shape[0]! * shape[1]!);
    for (let i = 0; i < bits.length; i++) bits[i] = toHalfBits(next() * scale);
    matrices.set(name, { shape, bits });
  };
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  mat('token_embd.weight', [c.vocabSize, c.dim], 1);
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blk.${l}.`;
    vectors.set(`${b}attn_norm.weight`, new Float32Array(c.dim).fill(1));
    vectors.set(`${b}ffn_norm.weight`, new Float32Array(c.dim).fill(1));
    mat(`${b}attn_q.weight`, [q, c.dim], 0.05);
    mat(`${b}attn_k.weight`, [kv, c.dim], 0.05);
    mat(`${b}attn_v.weight`, [kv, c.dim], 0.05);
    mat(`${b}attn_output.weight`, [c.dim, q], 0.05);
    mat(`${b}ffn_gate.weight`, [c.hiddenDim, c.dim], 0.05);
    mat(`${b}ffn_up.weight`, [c.hiddenDim, c.dim], 0.05);
    mat(`${b}ffn_down.weight`, [c.dim, c.hiddenDim], 0.05);
    if (c.qkvBias) {
      for (const [n, d] of [['q', q], ['k', kv], ['v', kv]] as const) vectors.set(`${b}attn_${n}.bias`, Float32Array.from({ length: d }, () => next() * 0.05));
    }
  }
  vectors.set('output_norm.weight', new Float32Array(c.dim).fill(1));
  return { matrices, vectors };
}

/** our ModelWeights over the drawn model, in a kernel arena of its own: 16-bit matrices kept, or widened to fp32 */
function ourWeights(c: ModelConfig, m: HalfModel, dtype: 'F32' | 'F16'): ModelWeights {
  const arena: KernelArena = newKernelArena();
  const matrix = (name: string): WeightMatrix => {
    const bits = m.matrices.get(name)!.bits;
    if (dtype === 'F16') {
      const kept = new HalfMatrix('F16', arena.allocU16(bits.length));
      kept.bits.set(bits);
      return kept;
    }
    const wide = arena.allocF32(bits.length);
    wide.set(widenedF32(new HalfMatrix('F16', bits)));
    return wide;
  };
  const vec = (name: string): Float32Array => {
    const v = m.vectors.get(name)!;
    const a = arena.allocF32(v.length);
    a.set(v);
    return a;
  };
  const layers: LayerWeights[] = Array.from({ length: c.nLayers }, (_, l) => {
    const b = `blk.${l}.`;
    const layer: LayerWeights = {
      attnNorm: vec(`${b}attn_norm.weight`), ffnNorm: vec(`${b}ffn_norm.weight`),
      wq: matrix(`${b}attn_q.weight`), wk: matrix(`${b}attn_k.weight`), wv: matrix(`${b}attn_v.weight`), wo: matrix(`${b}attn_output.weight`),
      w1: matrix(`${b}ffn_gate.weight`), w2: matrix(`${b}ffn_down.weight`), w3: matrix(`${b}ffn_up.weight`),
    };
    if (c.qkvBias) {
      layer.bq = vec(`${b}attn_q.bias`);
      layer.bk = vec(`${b}attn_k.bias`);
      layer.bv = vec(`${b}attn_v.bias`);
    }
    return layer;
  });
  const tokenEmbedding = matrix('token_embd.weight');
  return { config: c, tokenEmbedding, layers, finalNorm: vec('output_norm.weight'), output: tokenEmbedding };
}

/** the drawn model as a GGUF llama.cpp loads (F16 matrices, or their fp32 widening); tokens are placeholders */
function writeModelGguf(file: string, shape: Shape, m: HalfModel, dtype: 'F32' | 'F16'): void {
  const c = shape.config;
  const a = shape.arch;
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: a }],
    ['general.name', { type: 'string', value: `random ${shape.name}` }],
    ['general.alignment', { type: 'u32', value: 32 }],
    [`${a}.context_length`, { type: 'u32', value: 4096 }],
    [`${a}.embedding_length`, { type: 'u32', value: c.dim }],
    [`${a}.block_count`, { type: 'u32', value: c.nLayers }],
    [`${a}.feed_forward_length`, { type: 'u32', value: c.hiddenDim }],
    [`${a}.attention.head_count`, { type: 'u32', value: c.nHeads }],
    [`${a}.attention.head_count_kv`, { type: 'u32', value: c.nKvHeads }],
    [`${a}.rope.dimension_count`, { type: 'u32', value: c.headDim }],
    [`${a}.rope.freq_base`, { type: 'f32', value: c.ropeTheta }],
    [`${a}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: c.rmsNormEps }],
    ...syntheticLlamaVocab(c.vocabSize),
  ];
  const tensors: GgufTensor[] = [];
  for (const [name, t] of m.matrices) tensors.push({ name, shape: t.shape, data: dtype === 'F16' ? t.bits : widenedF32(new HalfMatrix('F16', t.bits)) });
  for (const [name, v] of m.vectors) tensors.push({ name, shape: [v.length], data: v });
  writeGguf(file, kv, tensors);
}

/**
 * Floating-point operations of a prefill of n tokens: every layer's projections (2 per weight per token), causal
 * attention (QKᵀ and P·V over the positions so far), and the output head for the last token only, as both engines do.
 */
export function prefillFlops(c: ModelConfig, n: number): number {
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const perLayer = c.dim * (2 * q + 2 * kv) + 3 * c.dim * c.hiddenDim;
  const attention = 2 * 2 * c.nHeads * c.headDim * ((n * (n + 1)) / 2);
  return c.nLayers * (2 * n * perLayer + attention) + 2 * c.dim * c.vocabSize;
}

interface Speed {
  prefill: number;
  decode: number;
  prefillCpu: number;
  decodeCpu: number;
  tokens: number[];
}

/** seconds of wall clock and of process CPU between marks */
function stopwatch(): () => { wall: number; cpu: number } {
  let t = performance.now();
  let c = process.cpuUsage();
  return () => {
    const now = performance.now();
    const dc = process.cpuUsage(c);
    const r = { wall: (now - t) / 1000, cpu: (dc.user + dc.system) / 1e6 };
    t = now;
    c = process.cpuUsage();
    return r;
  };
}

function ours(weights: ModelWeights, prompt: number[], decode: number): Speed {
  const V = weights.config.vocabSize;
  // warm-up: compiles the kernels' paths at these shapes
  new ForwardState(weights).forward(prompt.slice(0, 8));
  const state = new ForwardState(weights);
  const lap = stopwatch();
  let logits = state.forward(prompt).logits;
  const tokens = [argmax(logits, 0, V)];
  const p = lap();
  for (let i = 1; i <= decode; i++) {
    logits = state.forward([tokens[i - 1]!]).logits;
    tokens.push(argmax(logits, 0, V));
  }
  const d = lap();
  return { prefill: prompt.length / p.wall, prefillCpu: prompt.length / p.cpu, decode: decode / d.wall, decodeCpu: decode / d.cpu, tokens };
}

/** ours() with this thread's big matmuls on the weights' memory split over `threads` threads (helpers attached to it) */
async function oursSplit(weights: ModelWeights, prompt: number[], decode: number, threads: number): Promise<Speed> {
  const first = weights.tokenEmbedding;
  const memory = arenaMemoryOf(first instanceof HalfMatrix ? first.bits : first);
  if (!memory) throw new Error('the weights are not in a kernel arena');
  const team = await MatmulTeam.start(memory, threads, path.resolve(__dirname, '..', 'engine-matmul-helper.js'));
  try {
    return ours(weights, prompt, decode);
  } finally {
    await team.close();
  }
}

async function llamaCpp(file: string, prompt: number[], decode: number, threads = 1): Promise<Speed> {
  const m = await loadLlamaCpp(file, 256, threads);
  try {
    await m.greedy(prompt.slice(0, 8), 2); // warm-up
    const lap = stopwatch();
    let p = { wall: 0, cpu: 0 };
    // token 0 comes out of the prefill; each later one costs one decode step, as in ours()
    const tokens = await m.greedy(prompt, decode + 1, (i) => {
      if (i === 0) p = lap();
    });
    const d = lap();
    return { prefill: prompt.length / p.wall, prefillCpu: prompt.length / p.cpu, decode: decode / d.wall, decodeCpu: decode / d.cpu, tokens };
  } finally {
    await m.dispose();
  }
}

export async function benchShapes(): Promise<void> {
  const prefillN = Number(process.env.SCLAB_BENCH_PREFILL ?? 64);
  const decodeN = Math.max(2, Number(process.env.SCLAB_BENCH_DECODE ?? 16));
  const threads = Number(process.env.SCLAB_BENCH_THREADS ?? 2);
  console.log(`\n6. prefill ${prefillN} tokens and decode ${decodeN}, random weights of real shapes, 1 thread${threads > 1 ? ` and ${threads}` : ''}, ours against llama.cpp on the same weights as GGUF (tokens/s by wall clock | by CPU time of all the process's threads)`);
  const only = process.env.SCLAB_BENCH_SHAPES?.split(',');
  for (const shape of SHAPES.filter((s) => !only || only.includes(s.name))) {
    const c = shape.config;
    const model = drawModel(c);
    const prompt = Array.from({ length: prefillN }, (_, i) => 259 + ((i * 7919 + 13) % (c.vocabSize - 259)));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-shapes-'));
    try {
      for (const dtype of ['F32', 'F16'] as const) {
        // the kernels without fused multiply-add first (--engine-fma off), then the default (auto)
        configureKernels({ fma: 'off' });
        const plain = ours(ourWeights(c, model, dtype), prompt, decodeN);
        const loadPlain = machineLoad();
        configureKernels({ fma: 'auto' });
        const weights = ourWeights(c, model, dtype);
        const kernels = describeKernels(arenaMemoryOf(weights.tokenEmbedding instanceof HalfMatrix ? weights.tokenEmbedding.bits : weights.tokenEmbedding));
        const o = ours(weights, prompt, decodeN);
        const loadOurs = machineLoad();
        let cpp: Speed | null = null;
        let cppN: Speed | null = null;
        let why = '';
        try {
          const file = path.join(dir, `${dtype}.gguf`);
          writeModelGguf(file, shape, model, dtype);
          cpp = await llamaCpp(file, prompt, decodeN);
          if (threads > 1) cppN = await llamaCpp(file, prompt, decodeN, threads);
          rmSync(file, { force: true });
        } catch (e) {
          why = (e as Error).message;
        }
        const oN = threads > 1 ? await oursSplit(weights, prompt, decodeN, threads) : null;
        const loadN = machineLoad();
        const f = (x: number): string => x.toFixed(x < 10 ? 2 : 1);
        const ratio = (a: number, b: number): string => (a / b).toFixed(2);
        // the prefill's arithmetic, as GFLOP/s of CPU time: the same work for both engines
        const gf = (tokensPerCpuSecond: number): string => ((prefillFlops(c, prefillN) / prefillN) * tokensPerCpuSecond / 1e9).toFixed(1);
        console.log(`   ${shape.name} ${dtype}   (ours: ${kernels}; prefill = ${(prefillFlops(c, prefillN) / 1e9).toFixed(1)} GFLOP)`);
        console.log(`     ours, FMA off  prefill ${f(plain.prefill)} | ${f(plain.prefillCpu)} (${gf(plain.prefillCpu)} GFLOP/s)   decode ${f(plain.decode)} | ${f(plain.decodeCpu)}   [${loadPlain}]`);
        console.log(`     ours           prefill ${f(o.prefill)} | ${f(o.prefillCpu)} (${gf(o.prefillCpu)} GFLOP/s)   decode ${f(o.decode)} | ${f(o.decodeCpu)}   [${loadOurs}]`);
        if (cpp) {
          console.log(`     llama.cpp      prefill ${f(cpp.prefill)} | ${f(cpp.prefillCpu)} (${gf(cpp.prefillCpu)} GFLOP/s)   decode ${f(cpp.decode)} | ${f(cpp.decodeCpu)}   [${machineLoad()}]`);
          console.log(`     ratio ours/llama.cpp  prefill ${ratio(o.prefill, cpp.prefill)} | ${ratio(o.prefillCpu, cpp.prefillCpu)}   decode ${ratio(o.decode, cpp.decode)} | ${ratio(o.decodeCpu, cpp.decodeCpu)}   (FMA off: prefill ${ratio(plain.prefill, cpp.prefill)} | ${ratio(plain.prefillCpu, cpp.prefillCpu)}, decode ${ratio(plain.decode, cpp.decode)} | ${ratio(plain.decodeCpu, cpp.decodeCpu)})`);
          const same = o.tokens.every((t, i) => t === cpp!.tokens[i]);
          console.log(`     same ${o.tokens.length} greedy tokens: ${same ? 'yes' : 'no'}${dtype === 'F16' && !same ? ' (llama.cpp multiplies F16 weights by F16-rounded activations; ours widens the weights to fp32)' : ''}`);
          if (oN && cppN) {
            console.log(`     ${threads} threads: ours (split) prefill ${f(oN.prefill)} | ${f(oN.prefillCpu)}   decode ${f(oN.decode)} | ${f(oN.decodeCpu)}   llama.cpp prefill ${f(cppN.prefill)} | ${f(cppN.prefillCpu)}   decode ${f(cppN.decode)} | ${f(cppN.decodeCpu)}   [${loadN}]`);
            console.log(`     ${threads} threads: ratio ours/llama.cpp  prefill ${ratio(oN.prefill, cppN.prefill)} | ${ratio(oN.prefillCpu, cppN.prefillCpu)}   decode ${ratio(oN.decode, cppN.decode)} | ${ratio(oN.decodeCpu, cppN.decodeCpu)}; speed-up over 1 thread (wall): ours prefill ${ratio(oN.prefill, o.prefill)}× decode ${ratio(oN.decode, o.decode)}×, llama.cpp prefill ${ratio(cppN.prefill, cpp.prefill)}× decode ${ratio(cppN.decode, cpp.decode)}×`);
            const sameN = oN.tokens.every((t, i) => t === o.tokens[i]) && cppN.tokens.every((t, i) => t === cpp!.tokens[i]);
            console.log(`     ${threads} threads: each engine's greedy tokens as at 1 thread: ${sameN ? 'yes' : 'no'}`);
          }
        } else {
          console.log(`     llama.cpp could not run: ${why}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
