// The end-to-end case of bench:engine: the paper-bbq preset on real BBQ items, a residual probe on every layer, a
// random-weight model of SmolLM2-135M shapes written as a Hugging Face folder (BF16 safetensors, a byte-level BPE
// tokenizer with a ChatML chat template), served by the embedded backend in its worker thread — once on the
// three-pass path (prefix cache off) and once on the one-pass path, in the same process, on the same items.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createEmbeddedBackend } from '../src/core/backends/embedded';
import { EngineClient } from '../src/core/engine/client';
import type { FmaMode } from '../src/core/engine/kernels-wasm';
import type { RoundRecord } from '../src/core/model/record';
import { writeProbeFile } from '../src/core/probes/load';
import type { ProbeFile } from '../src/core/probes/schema';
import { encodeF32 } from '../src/core/probes/vectors';
import { roundExtensionsFor } from '../src/core/runner/round-extensions';
import { prepareExperiment } from '../src/core/runner/prepare';
import { startRun } from '../src/core/runner/run';
import { readRecords } from '../src/core/runner/store';
import { bytesToUnicode } from '../test/engine-hf/fixtures';
import { syntheticLlamaVocab, writeGguf, type GgufTensor } from '../test/support/gguf';
import { loadLlamaCpp } from './support/llamacpp';

// the whole BBQ file where the datasets are (SCLAB_DATASETS, else ../shared/datasets), else the committed sample
const BBQ = [process.env.SCLAB_DATASETS, path.resolve(__dirname, '../../../shared/datasets')]
  .filter((d): d is string => !!d)
  .map((d) => path.join(d, 'bbq', 'Religion.jsonl'))
  .find((f) => existsSync(f)) ?? path.resolve(__dirname, '../../test/fixtures/samples/bbq/Religion.jsonl');
const CHATML_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export const SMOLLM2_SHAPE = { dim: 576, hiddenDim: 1536, nLayers: 30, nHeads: 9, nKvHeads: 3, vocab: 49152 };

/**
 * A byte-level BPE tokenizer.json whose merges are learned from `corpus` (so prompts come out at a realistic ~4
 * characters per token), padded with filler tokens to `vocab` entries so every id a random model emits decodes.
 */
function trainTokenizer(corpus: string[], merges: number, vocab: number): object {
  const b2u = bytesToUnicode();
  const toUnicode = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => b2u[b]).join('');
  const words = new Map<string, number>();
  for (const text of corpus) for (const w of text.match(/ ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+/g) ?? []) words.set(w, (words.get(w) ?? 0) + 1);
  const split = [...words].map(([w, n]) => ({ syms: [...toUnicode(w)], n }));
  const table = new Map<string, number>([
    ['<|endoftext|>', 0],
    ['<|im_start|>', 1],
    ['<|im_end|>', 2],
  ]);
  const add = (piece: string): void => void (table.has(piece) || table.set(piece, table.size));
  for (const ch of b2u) add(ch);
  const learned: string[] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const { syms, n } of split) for (let i = 0; i + 1 < syms.length; i++) counts.set(`${syms[i]} ${syms[i + 1]}`, (counts.get(`${syms[i]} ${syms[i + 1]}`) ?? 0) + n);
    let best = '';
    let bestN = 1;
    for (const [p, n] of counts) if (n > bestN) [best, bestN] = [p, n];
    if (!best) break;
    const [a, b] = best.split(' ') as [string, string];
    learned.push(best);
    add(a + b);
    for (const w of split) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
  for (let i = 0; table.size < vocab; i++) add(toUnicode(`~${i}~`));
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<|endoftext|>'), special(1, '<|im_start|>'), special(2, '<|im_end|>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(table), merges: learned },
  };
}

/** values k/2048, k in [-128, 128]: exact in BF16, small enough that 30 random layers stay finite */
function fillRandom(out: Uint16Array, seed: number): void {
  let s = seed >>> 0;
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    f[0] = (Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 257) - 128) / 2048;
    out[i] = u[0]! >>> 16;
  }
}

export interface HfShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
  /** Qwen2: biases on q, k and v */
  qkvBias?: boolean;
}

/** the tensors of a random model of this shape, HF names, in file order; norms are ones */
function randomModelTensors(shape: HfShape = SMOLLM2_SHAPE): Array<{ name: string; shape: number[]; ones?: boolean }> {
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab } = shape;
  const hd = dim / nHeads;
  const tensors: Array<{ name: string; shape: number[]; ones?: boolean }> = [{ name: 'model.embed_tokens.weight', shape: [vocab, dim] }];
  for (let l = 0; l < nLayers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      { name: `${p}input_layernorm.weight`, shape: [dim], ones: true },
      { name: `${p}self_attn.q_proj.weight`, shape: [nHeads * hd, dim] },
      { name: `${p}self_attn.k_proj.weight`, shape: [nKvHeads * hd, dim] },
      { name: `${p}self_attn.v_proj.weight`, shape: [nKvHeads * hd, dim] },
    );
    if (shape.qkvBias) {
      tensors.push({ name: `${p}self_attn.q_proj.bias`, shape: [nHeads * hd] }, { name: `${p}self_attn.k_proj.bias`, shape: [nKvHeads * hd] }, { name: `${p}self_attn.v_proj.bias`, shape: [nKvHeads * hd] });
    }
    tensors.push(
      { name: `${p}self_attn.o_proj.weight`, shape: [dim, nHeads * hd] },
      { name: `${p}post_attention_layernorm.weight`, shape: [dim], ones: true },
      { name: `${p}mlp.gate_proj.weight`, shape: [hiddenDim, dim] },
      { name: `${p}mlp.up_proj.weight`, shape: [hiddenDim, dim] },
      { name: `${p}mlp.down_proj.weight`, shape: [dim, hiddenDim] },
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [dim], ones: true });
  return tensors;
}

/** each tensor's BF16 bits, in file order (the same seeds every time: the safetensors and the GGUF agree) */
function* randomModelBits(shape: HfShape = SMOLLM2_SHAPE): Generator<{ name: string; shape: number[]; bits: Uint16Array }> {
  let seed = 1;
  for (const t of randomModelTensors(shape)) {
    const a = new Uint16Array(t.shape.reduce((x, y) => x * y, 1));
    if (t.ones) a.fill(0x3f80);
    else fillRandom(a, seed++);
    yield { ...t, bits: a };
  }
}

/** Streams a BF16 safetensors file of this shape with random weights (norms = 1). */
export async function writeRandomSafetensors(file: string, shape: HfShape = SMOLLM2_SHAPE): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const t of randomModelTensors(shape)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const out = createWriteStream(file);
  const write = (b: Uint8Array): Promise<void> => new Promise((resolve, reject) => out.write(b, (e) => (e ? reject(e) : resolve())));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await write(len);
  await write(Buffer.from(json));
  for (const t of randomModelBits(shape)) await write(new Uint8Array(t.bits.buffer));
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** Qwen2.5-1.5B's shapes (1.54 B parameters, tied embeddings): 3.1 GB as BF16 */
export const QWEN25_15B_SHAPE: HfShape = { dim: 1536, hiddenDim: 8960, nLayers: 28, nHeads: 12, nKvHeads: 2, vocab: 151936, qkvBias: true };

/**
 * A Hugging Face folder of a random BF16 model of Qwen2.5-1.5B's shapes in dir (config, a small byte-level BPE
 * tokenizer padded to the vocabulary, a ChatML template, model.safetensors): for the memory check of section 5.
 */
export async function writeQwen15bFolder(dir: string): Promise<void> {
  const s = QWEN25_15B_SHAPE;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: s.dim, intermediate_size: s.hiddenDim, num_hidden_layers: s.nLayers,
      num_attention_heads: s.nHeads, num_key_value_heads: s.nKvHeads, hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6,
      rope_theta: 1000000, tie_word_embeddings: true, vocab_size: s.vocab, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16',
    }),
  );
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(trainTokenizer(['Who was it? The answer is A.'], 20, s.vocab)));
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ add_prefix_space: false, bos_token: '<|im_start|>', eos_token: '<|im_end|>', unk_token: '<|endoftext|>', clean_up_tokenization_spaces: false, tokenizer_class: 'GPT2Tokenizer', chat_template: CHATML_TEMPLATE }),
  );
  await writeRandomSafetensors(path.join(dir, 'model.safetensors'), s);
}

/**
 * HF's q_proj/k_proj rows (rotate-half RoPE) in GGUF llama's order (interleaved pairs), as convert_hf_to_gguf.py
 * permutes them: within each head, row 2i is HF row i and row 2i+1 is HF row i + headDim/2.
 */
function permuteForGguf(w: Float32Array, heads: number, headDim: number, width: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      out.set(w.subarray((h * headDim + i) * width, (h * headDim + i + 1) * width), (h * headDim + 2 * i) * width);
      out.set(w.subarray((h * headDim + half + i) * width, (h * headDim + half + i + 1) * width), (h * headDim + 2 * i + 1) * width);
    }
  }
  return out;
}

/**
 * The same random model as a GGUF llama.cpp loads as `llama`: the BF16 weights widened to F32 (exact), Q and K
 * permuted to GGUF's RoPE layout, tied embeddings. Token pieces are placeholders: prompts go in as our ids.
 */
export function writeEndToEndGguf(file: string): void {
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab } = SMOLLM2_SHAPE;
  const hd = dim / nHeads;
  const names: Record<string, string> = {
    input_layernorm: 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output', post_attention_layernorm: 'ffn_norm', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
  };
  const tensors: GgufTensor[] = [];
  for (const t of randomModelBits()) {
    const wide = new Uint32Array(t.bits.length);
    for (let i = 0; i < wide.length; i++) wide[i] = t.bits[i]! << 16; // BF16 → F32: the top half
    let data: Float32Array = new Float32Array(wide.buffer);
    let name: string;
    if (t.name === 'model.embed_tokens.weight') name = 'token_embd.weight';
    else if (t.name === 'model.norm.weight') name = 'output_norm.weight';
    else {
      const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(t.name)!;
      name = `blk.${m[1]}.${names[m[2]!]!}.weight`;
      if (m[2] === 'self_attn.q_proj') data = permuteForGguf(data, nHeads, hd, dim);
      if (m[2] === 'self_attn.k_proj') data = permuteForGguf(data, nKvHeads, hd, dim);
    }
    tensors.push({ name, shape: t.shape, data });
  }
  // an SPM vocabulary with byte pieces, as llama.cpp loads without merges; ids 0–2 keep their roles (2 = end)
  writeGguf(file, [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'random SmolLM2-135M (bench:engine end to end)' }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ['llama.context_length', { type: 'u32', value: 8192 }],
    ['llama.embedding_length', { type: 'u32', value: dim }],
    ['llama.block_count', { type: 'u32', value: nLayers }],
    ['llama.feed_forward_length', { type: 'u32', value: hiddenDim }],
    ['llama.attention.head_count', { type: 'u32', value: nHeads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: nKvHeads }],
    ['llama.rope.dimension_count', { type: 'u32', value: hd }],
    ['llama.rope.freq_base', { type: 'f32', value: 100000 }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ...syntheticLlamaVocab(vocab),
  ], tensors);
}

async function firstAmbiguousItems(n: number): Promise<string[]> {
  const rows: string[] = [];
  const rl = createInterface({ input: createReadStream(BBQ) });
  for await (const line of rl) {
    if (!line.trim()) continue;
    if ((JSON.parse(line) as { context_condition: string }).context_condition !== 'ambig') continue;
    rows.push(line);
    if (rows.length >= n) break;
  }
  rl.close();
  return rows;
}

/** the HF folder, the BBQ subset and a residual probe on every layer, in dir */
export async function prepareEndToEnd(dir: string, items: number): Promise<{ modelDir: string; dataset: string; probe: string }> {
  const modelDir = path.join(dir, 'smollm2-135m-random');
  mkdirSync(modelDir, { recursive: true });
  const dataset = path.join(dir, 'bbq-religion.jsonl');
  const rows = await firstAmbiguousItems(items);
  writeFileSync(dataset, rows.join('\n') + '\n');
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab } = SMOLLM2_SHAPE;
  writeFileSync(
    path.join(modelDir, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: dim,
      intermediate_size: hiddenDim,
      num_hidden_layers: nLayers,
      num_attention_heads: nHeads,
      num_key_value_heads: nKvHeads,
      hidden_act: 'silu',
      max_position_embeddings: 8192,
      rms_norm_eps: 1e-5,
      rope_theta: 100000,
      tie_word_embeddings: true,
      vocab_size: vocab,
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: 'bfloat16',
    }),
  );
  // the tokenizer learns its merges from the items and the preset's wording (read back from a prepared run)
  const prepared = await prepareExperiment({ file: dataset, preset: 'paper-bbq' });
  const wording = prepared.experiment.conditions.flatMap((c) => c.turns.flatMap((t) => [t.user, t.prefill]));
  const corpus = [...rows.map((r) => Object.values(JSON.parse(r) as Record<string, unknown>).filter((v) => typeof v === 'string').join(' ')), ...wording];
  writeFileSync(path.join(modelDir, 'tokenizer.json'), JSON.stringify(trainTokenizer(corpus, 3000, vocab)));
  writeFileSync(
    path.join(modelDir, 'tokenizer_config.json'),
    JSON.stringify({ add_prefix_space: false, bos_token: '<|im_start|>', eos_token: '<|im_end|>', unk_token: '<|endoftext|>', clean_up_tokenization_spaces: false, tokenizer_class: 'GPT2Tokenizer', chat_template: CHATML_TEMPLATE }),
  );
  await writeRandomSafetensors(path.join(modelDir, 'model.safetensors'));
  return { modelDir, dataset, probe: path.join(dir, 'bias.probe.json') };
}

async function writeEveryLayerProbe(file: string, identity: ProbeFile['model']): Promise<void> {
  let s = 3;
  const vec = (): string => encodeF32(Array.from({ length: identity.dModel }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1));
  await writeProbeFile(file, {
    schema: 'sclab.probe/1',
    model: identity,
    module: 'residual',
    position: 'last',
    moralDirection: 'lower',
    convention: 'sclab',
    kind: 'direction',
    variant: 'statements',
    score: 'cosine',
    positiveLabel: 'biased',
    band: [10, 20],
    layers: Array.from({ length: identity.nLayers + 1 }, (_, layer) => ({ layer, weights: vec(), bias: null, heldOutAccuracy: null })),
    training: {
      tool: 'bench',
      toolVersion: '0',
      date: '2026-01-01T00:00:00.000Z',
      data: { file: 'random', sha256: '00', format: 'lines', textField: null, labelField: null, positive: [], rows: 0 },
      input: { format: 'raw', maxTokens: 16, truncation: 'keep-first', truncated: 0 },
      statements: 1,
    },
  });
}

export interface EndToEndResult {
  label: string;
  /** the run's folder (records.jsonl: the prompts, in the order they ran) */
  runDir: string;
  records: number;
  errors: number;
  seconds: number;
  cpuSeconds: number;
  /** highest resident set size sampled during the run, MiB */
  peakRssMiB: number;
  notes: string[];
  responses: Map<string, string>;
  probeCosines: Map<string, number[]>;
  optionLogprobs: Map<string, Array<number | null>>;
}

/** One run of the preset through the embedded backend in its worker; prefixCache false = the three-pass path. */
export async function runEndToEnd(
  label: string,
  paths: { modelDir: string; dataset: string; probe: string },
  dir: string,
  opts: { prefixCache: false | { budgetBytes: number }; workerPath: string; concurrency: number; workers?: number; matmulThreads?: number; fma?: FmaMode },
): Promise<EndToEndResult> {
  const backend = createEmbeddedBackend({
    modelSpec: paths.modelDir, workerPath: opts.workerPath, mode: 'worker', prefixCache: opts.prefixCache, workers: opts.workers ?? 1,
    ...(opts.matmulThreads ? { matmulThreads: opts.matmulThreads } : {}),
    ...(opts.fma ? { fma: opts.fma } : {}),
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const prepared = await prepareExperiment({ file: paths.dataset, preset: 'paper-bbq' });
    const experiment = { ...prepared.experiment, probes: [{ name: 'bias', path: paths.probe }] };
    const identity = await backend.identity();
    if (!readFileSafe(paths.probe)) await writeEveryLayerProbe(paths.probe, identity);
    const extensions = roundExtensionsFor(experiment, { baseDir: dir, secrets: { get: async () => undefined } });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await startRun({
      outDir: path.join(dir, `runs-${label}`),
      experiment,
      dataset: prepared.dataset,
      items: prepared.items,
      backend,
      settings: { concurrency: opts.concurrency, requestTimeoutMs: 3_600_000, cacheDir: null },
      extensions: extensions.build,
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    await extensions.close();
    const { records } = await readRecords(result.runDir);
    const key = (r: RoundRecord): string => `${r.itemId}/${r.condition}/${r.round}`;
    return {
      label,
      runDir: result.runDir,
      records: records.length,
      errors: records.filter((r) => r.error).length,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: peak / 2 ** 20,
      notes: result.manifest.backend.notes,
      responses: new Map(records.map((r) => [key(r), r.response])),
      probeCosines: new Map(records.map((r) => [key(r), (r.probes?.['bias']?.cosine ?? []).map((v) => v ?? Number.NaN)])),
      optionLogprobs: new Map(records.map((r) => [key(r), r.optionScores?.logprobs ?? []])),
    };
  } finally {
    clearInterval(sampler);
    await backend.close();
  }
}

export interface LlamaCppEndToEnd {
  records: number;
  seconds: number;
  cpuSeconds: number;
  /** prompt tokens in all requests, and those llama.cpp evaluated (the rest came from its prompt cache) */
  promptTokens: number;
  evaluatedTokens: number;
  /** records whose greedy answer is the same text as ours */
  sameAnswers: number;
  /** the first few that differ: key, ours, llama.cpp's */
  differences: Array<{ key: string; ours: string; theirs: string }>;
}

/**
 * The rounds of a finished run of ours, replayed through llama.cpp in the order they ran: each round's prompt is
 * rendered and tokenized by our engine (same ids), llama.cpp generates the answer greedily with prompt caching (one
 * sequence; the part shared with the previous request is kept, as llama.cpp's server does) up to the experiment's
 * maxTokens or its end token. Only generation: llama.cpp neither scores the options nor reads hidden states. Model
 * loading and tokenizing are not timed; llama.cpp runs one thread.
 */
export async function runLlamaCppEndToEnd(ours: EndToEndResult, paths: { modelDir: string; dataset: string }, ggufPath: string): Promise<LlamaCppEndToEnd> {
  const prepared = await prepareExperiment({ file: paths.dataset, preset: 'paper-bbq' });
  const { maxTokens, stop = [] } = prepared.experiment.decoding;
  const { records } = await readRecords(ours.runDir);
  const client = await EngineClient.start({ modelSpec: paths.modelDir, mode: 'in-process' });
  try {
    const info = await client.info();
    const prompts: number[][] = [];
    for (const r of records) prompts.push((await client.tokenize([await client.render(r.messages, r.prefill)]))[0]!);
    const maxLen = Math.max(...prompts.map((p) => p.length)) + maxTokens + 8;
    const model = await loadLlamaCpp(ggufPath, Math.ceil(maxLen / 256) * 256);
    const eos = new Set(info.eosIds);
    const generated: number[][] = [];
    let evaluatedTokens = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      for (const ids of prompts) {
        const g = await model.greedyCached(ids, maxTokens, eos);
        generated.push(g.tokens);
        evaluatedTokens += g.evaluated;
      }
    } finally {
      await model.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    // the answers as our engine turns ids into text (decoded after the prompt's tail), cut at a stop sequence
    let sameAnswers = 0;
    const differences: LlamaCppEndToEnd['differences'] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const tail = prompts[i]!.slice(-4);
      const before = await client.decode(tail);
      const all = await client.decode(tail.concat(generated[i]!));
      let text = all.startsWith(before) ? all.slice(before.length) : await client.decode(generated[i]!);
      const cut = Math.min(...stop.filter((x) => x).map((x) => text.indexOf(x)).filter((at) => at >= 0));
      if (Number.isFinite(cut)) text = text.slice(0, cut);
      if (text === r.response) sameAnswers++;
      else if (differences.length < 3) differences.push({ key: `${r.itemId}/${r.condition}/${r.round}`, ours: r.response, theirs: text });
    }
    return {
      records: records.length,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      promptTokens: prompts.reduce((a, p) => a + p.length, 0),
      evaluatedTokens,
      sameAnswers,
      differences,
    };
  } finally {
    await client.close();
  }
}

function readFileSafe(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}

/** the largest absolute difference between two runs' numbers over all records (NaN-safe: both NaN = equal) */
export function maxDifference(a: Map<string, Array<number | null>>, b: Map<string, Array<number | null>>): number {
  let m = 0;
  for (const [k, xs] of a) {
    const ys = b.get(k) ?? [];
    xs.forEach((x, i) => {
      const y = ys[i];
      if (x === null || y === null || y === undefined || (Number.isNaN(x) && Number.isNaN(y))) return;
      m = Math.max(m, Math.abs(x - y));
    });
  }
  return m;
}

export const machineLoad = (): string => `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`;
