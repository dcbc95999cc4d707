// Builders for small Hugging Face model folders in a temp dir: safetensors writer, tokenizers, configs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Dtype = 'F32' | 'F16' | 'BF16';
export interface TensorSpec {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype: Dtype;
}

/** Independent binary16 encoder for values that are exactly representable (throws otherwise). */
export function f16Bits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (e < -14) {
    const frac = a / 2 ** -24;
    if (!Number.isInteger(frac)) throw new Error(`${x} is not representable in f16`);
    return sign | frac;
  }
  let m = a / 2 ** e;
  if (m >= 2) {
    e += 1;
    m /= 2;
  }
  const frac = (m - 1) * 1024;
  if (!Number.isInteger(frac) || e > 15) throw new Error(`${x} is not representable in f16`);
  return sign | ((e + 15) << 10) | frac;
}

export function bf16Bits(x: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  const bits = dv.getUint32(0, true);
  if ((bits & 0xffff) !== 0) throw new Error(`${x} is not representable in bf16`);
  return bits >>> 16;
}

function encode(t: TensorSpec): Uint8Array {
  if (t.dtype === 'F32') return new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  const u16 = new Uint16Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) u16[i] = t.dtype === 'F16' ? f16Bits(t.data[i]!) : bf16Bits(t.data[i]!);
  return new Uint8Array(u16.buffer);
}

export function safetensorsBytes(tensors: TensorSpec[], metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const t of tensors) {
    const b = encode(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + b.length] };
    blobs.push(b);
    at += b.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' '; // the reference writer pads the header to 8 bytes
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...blobs]);
}

/** Deterministic values k/128, k in [-128, 128]: exactly representable in F32, F16 and BF16. */
export function gridRandom(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (Math.floor(u * 257) - 128) / 128;
  }
  return out;
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sclab-hf-${prefix}-`));
}

// ---- tokenizers -------------------------------------------------------------------------------------------

function added(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** A Llama/Mistral-style SentencePiece BPE (Metaspace "▁", byte fallback, BOS added by the post-processor). */
export function llamaTokenizerJson(): { json: object; size: number } {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const pieces = ['▁', ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?:'.split(''), '▁t', 'he', '▁the', '▁a', 'in', '▁in'];
  for (const p of pieces) vocab[p] = Object.keys(vocab).length;
  const merges = ['▁ t', 'h e', '▁t he', '▁ a', 'i n', '▁ in'];
  return {
    size: Object.keys(vocab).length,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence',
        decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
      },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges },
    },
  };
}

/** GPT-2's byte → printable character map, as byte-level BPE tokenizers (SmolLM2, Qwen2) use it. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map: string[] = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCodePoint(cs[i]!)));
  return map;
}

/** A SmolLM2/Qwen2-style byte-level BPE with ChatML special tokens and no automatic BOS. */
export function chatmlTokenizerJson(): { json: object; size: number } {
  const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 };
  for (const ch of bytesToUnicode()) vocab[ch] = Object.keys(vocab).length;
  const merged = ['Ġt', 'he', 'Ġthe', 'Ġa', 'in', 'Ġin'];
  for (const p of merged) vocab[p] = Object.keys(vocab).length;
  return {
    size: Object.keys(vocab).length,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [added(0, '<|endoftext|>'), added(1, '<|im_start|>'), added(2, '<|im_end|>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: ['Ġ t', 'h e', 'Ġt he', 'Ġ a', 'i n', 'Ġ in'] },
    },
  };
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export const MISTRAL_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

// ---- whole model folders ----------------------------------------------------------------------------------

export interface FolderSpec {
  family: 'llama' | 'mistral' | 'qwen2';
  dtype: Dtype;
  tied: boolean;
  /** write lm_head.weight even when tied (some exports do) */
  sharded?: boolean;
  dim?: number;
  nHeads?: number;
  nKvHeads?: number;
  hiddenDim?: number;
  nLayers?: number;
  template?: string | null;
  configExtra?: Record<string, unknown>;
}

export interface Folder {
  dir: string;
  tensors: Map<string, TensorSpec>;
  config: Record<string, unknown>;
  vocab: number;
}

const ARCH = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' } as const;

export function writeHfFolder(spec: FolderSpec, dir = tmpDir(spec.family)): Folder {
  const dim = spec.dim ?? 16;
  const nHeads = spec.nHeads ?? 4;
  const nKvHeads = spec.nKvHeads ?? nHeads;
  const hd = dim / nHeads;
  const hidden = spec.hiddenDim ?? 24;
  const nLayers = spec.nLayers ?? 2;
  const chatml = spec.family !== 'mistral';
  const tok = chatml ? chatmlTokenizerJson() : llamaTokenizerJson();
  const vocab = tok.size;
  let seed = 1;
  const tensors = new Map<string, TensorSpec>();
  const add = (name: string, shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { name, shape, dtype: spec.dtype, data: gridRandom(n, seed++) });
  };
  add('model.embed_tokens.weight', [vocab, dim]);
  for (let l = 0; l < nLayers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [dim]);
    add(`${p}self_attn.q_proj.weight`, [nHeads * hd, dim]);
    add(`${p}self_attn.k_proj.weight`, [nKvHeads * hd, dim]);
    add(`${p}self_attn.v_proj.weight`, [nKvHeads * hd, dim]);
    add(`${p}self_attn.o_proj.weight`, [dim, nHeads * hd]);
    if (spec.family === 'qwen2') {
      add(`${p}self_attn.q_proj.bias`, [nHeads * hd]);
      add(`${p}self_attn.k_proj.bias`, [nKvHeads * hd]);
      add(`${p}self_attn.v_proj.bias`, [nKvHeads * hd]);
    }
    add(`${p}post_attention_layernorm.weight`, [dim]);
    add(`${p}mlp.gate_proj.weight`, [hidden, dim]);
    add(`${p}mlp.up_proj.weight`, [hidden, dim]);
    add(`${p}mlp.down_proj.weight`, [dim, hidden]);
  }
  add('model.norm.weight', [dim]);
  if (!spec.tied) add('lm_head.weight', [vocab, dim]);

  mkdirSync(dir, { recursive: true });
  const all = [...tensors.values()];
  if (spec.sharded) {
    const half = Math.ceil(all.length / 2);
    const shards = [all.slice(0, half), all.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((ts, i) => {
      const f = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(join(dir, f), safetensorsBytes(ts));
      for (const t of ts) weightMap[t.name] = f;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  } else {
    writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(all));
  }

  const config: Record<string, unknown> = {
    architectures: [ARCH[spec.family]],
    model_type: spec.family,
    hidden_size: dim,
    intermediate_size: hidden,
    num_hidden_layers: nLayers,
    num_attention_heads: nHeads,
    num_key_value_heads: nKvHeads,
    hidden_act: 'silu',
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: spec.family === 'qwen2' ? 1000000.0 : 10000.0,
    tie_word_embeddings: spec.tied,
    vocab_size: vocab,
    bos_token_id: chatml ? 0 : 1,
    eos_token_id: chatml ? 0 : 2,
    torch_dtype: spec.dtype === 'F32' ? 'float32' : spec.dtype === 'F16' ? 'float16' : 'bfloat16',
    ...(spec.family === 'mistral' ? { sliding_window: 32 } : {}),
    ...spec.configExtra,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.json));
  const template = spec.template === undefined ? (chatml ? CHATML_TEMPLATE : MISTRAL_TEMPLATE) : spec.template;
  const tokConfig: Record<string, unknown> = chatml
    ? { add_prefix_space: false, bos_token: spec.family === 'qwen2' ? null : '<|im_start|>', eos_token: '<|im_end|>', unk_token: null, clean_up_tokenization_spaces: false, tokenizer_class: 'GPT2Tokenizer' }
    : { add_bos_token: true, add_eos_token: false, bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false }, eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false, tokenizer_class: 'LlamaTokenizer' };
  if (template !== null) tokConfig.chat_template = template;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokConfig, null, 2));
  if (chatml) writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 0, eos_token_id: [2, 0] }));
  return { dir, tensors, config, vocab };
}
