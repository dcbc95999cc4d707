// A GGUF v3 writer (layout: ggml docs/gguf.md) and a converter from a llama2.c checkpoint + tokenizer to a GGUF
// that llama.cpp loads as a `llama` model, so that tests can cross-check our engine against llama.cpp.
//
// File: "GGUF" magic, u32 version 3, u64 tensor count, u64 KV count; KVs (string key, u32 type, value);
// tensor infos (name, u32 n_dims, u64 dims innermost first, u32 ggml type, u64 data offset); padding to
// general.alignment (32); tensor data, each tensor at an aligned offset. All little-endian.
// No RoPE permutation: GGUF llama and llama2.c both use the interleaved-pair layout for Q and K.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { readLlama2cCheckpoint } from './reference-forward';

const enum GgufType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}
const GGML_TYPE_F32 = 0;
const GGML_TYPE_F16 = 1;
const ALIGNMENT = 32;

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'f32[]'; value: number[] }
  | { type: 'i32[]'; value: number[] };

export interface GgufTensor {
  name: string;
  /** row-major shape, outermost first (e.g. [outDim, inDim]); written reversed as GGUF wants */
  shape: number[];
  /** F32 values, or the bits of F16 values */
  data: Float32Array | Uint16Array;
}

class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.push(b);
  }
  u64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }
  f32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  bytes(b: Buffer): void {
    this.push(b);
  }
  pad(): void {
    const n = (ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT;
    if (n > 0) this.push(Buffer.alloc(n));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case 'u32': w.u32(GgufType.UINT32); w.u32(v.value); break;
    case 'f32': w.u32(GgufType.FLOAT32); w.f32(v.value); break;
    case 'bool': w.u32(GgufType.BOOL); w.bytes(Buffer.from([v.value ? 1 : 0])); break;
    case 'string': w.u32(GgufType.STRING); w.str(v.value); break;
    case 'string[]': w.u32(GgufType.ARRAY); w.u32(GgufType.STRING); w.u64(v.value.length); v.value.forEach((s) => w.str(s)); break;
    case 'f32[]': w.u32(GgufType.ARRAY); w.u32(GgufType.FLOAT32); w.u64(v.value.length); v.value.forEach((x) => w.f32(x)); break;
    case 'i32[]': w.u32(GgufType.ARRAY); w.u32(GgufType.INT32); w.u64(v.value.length); v.value.forEach((x) => w.i32(x)); break;
  }
}

/** serialises a GGUF v3 file with F32 (and F16) tensors */
export function encodeGguf(kv: Array<[string, GgufValue]>, tensors: GgufTensor[]): Buffer {
  const w = ggufHeader(kv, tensors);
  for (const t of tensors) {
    w.bytes(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad();
  }
  return w.toBuffer();
}

/** writes a GGUF v3 file tensor by tensor (for models too big to assemble in one Buffer) */
/**
 * The tokenizer metadata of a synthetic llama vocabulary of `size` pieces (for random-weight models): <unk>, <s>, </s>,
 * the 256 byte pieces, then plain pieces t259…; llama.cpp loads it and its ids mean what our engine's do.
 */
export function syntheticLlamaVocab(size: number): Array<[string, GgufValue]> {
  const pieces = Array.from({ length: size }, (_, i) => (i < 3 ? ['<unk>', '<s>', '</s>'][i]! : i < 259 ? `<0x${(i - 3).toString(16).toUpperCase().padStart(2, '0')}>` : `t${i}`));
  const types = pieces.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: pieces }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: pieces.map(() => 0) }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
  ];
}

export function writeGguf(outPath: string, kv: Array<[string, GgufValue]>, tensors: GgufTensor[]): void {
  const fd = openSync(outPath, 'w');
  try {
    const header = ggufHeader(kv, tensors).toBuffer();
    writeSync(fd, header);
    let at = header.length;
    for (const t of tensors) {
      const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      writeSync(fd, b);
      at += b.length;
      const pad = (ALIGNMENT - (at % ALIGNMENT)) % ALIGNMENT;
      if (pad > 0) writeSync(fd, Buffer.alloc(pad));
      at += pad;
    }
  } finally {
    closeSync(fd);
  }
}

function ggufHeader(kv: Array<[string, GgufValue]>, tensors: GgufTensor[]): ByteWriter {
  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kv.length);
  for (const [key, value] of kv) {
    w.str(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape ${t.shape.join('x')} has ${n} elements, data has ${t.data.length}`);
    w.str(t.name);
    w.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) w.u64(d);
    w.u32(t.data instanceof Uint16Array ? GGML_TYPE_F16 : GGML_TYPE_F32);
    w.u64(offset);
    offset += Math.ceil((n * t.data.BYTES_PER_ELEMENT) / ALIGNMENT) * ALIGNMENT;
  }
  w.pad();
  return w;
}

/** llama.cpp token types */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

export interface Llama2cVocab {
  pieces: string[];
  scores: number[];
  types: number[];
}

/**
 * Reads tok512.bin-style tokenizers into SentencePiece-style pieces: llama2.c's exporter replaced '▁' with ' ' and
 * wrote BOS/EOS as "\n<s>\n"/"\n</s>\n"; both are undone here so that llama.cpp's SPM tokenizer sees real pieces.
 */
export function readLlama2cVocab(tokPath: string, vocabSize: number): Llama2cVocab {
  const buf = readFileSync(tokPath);
  let p = 4; // max_token_length
  const v: Llama2cVocab = { pieces: [], scores: [], types: [] };
  for (let id = 0; id < vocabSize; id++) {
    const score = buf.readFloatLE(p);
    const len = buf.readInt32LE(p + 4);
    const raw = buf.subarray(p + 8, p + 8 + len).toString('utf8');
    p += 8 + len;
    let piece = raw.replace(/ /g, '\u2581');
    let type = TOKEN_NORMAL;
    if (id === 0) type = TOKEN_UNKNOWN;
    else if (id === 1 || id === 2) {
      piece = raw.trim();
      type = TOKEN_CONTROL;
    } else if (/^<0x[0-9A-F]{2}>$/.test(raw)) type = TOKEN_BYTE;
    v.pieces.push(piece);
    v.scores.push(score);
    v.types.push(type);
  }
  return v;
}

/** converts a llama2.c checkpoint + tokenizer into a llama.cpp-loadable GGUF at outPath */
export function llama2cToGguf(binPath: string, tokPath: string, outPath: string): void {
  const ck = readLlama2cCheckpoint(binPath);
  const vocab = readLlama2cVocab(tokPath, ck.vocabSize);
  const headSize = ck.dim / ck.nHeads;
  const kvDim = ck.nKvHeads * headSize;
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'llama2c-converted' }],
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: ck.seqLen }],
    ['llama.embedding_length', { type: 'u32', value: ck.dim }],
    ['llama.block_count', { type: 'u32', value: ck.nLayers }],
    ['llama.feed_forward_length', { type: 'u32', value: ck.hiddenDim }],
    ['llama.attention.head_count', { type: 'u32', value: ck.nHeads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: ck.nKvHeads }],
    ['llama.rope.dimension_count', { type: 'u32', value: headSize }],
    ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.pieces }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];
  const tensors: GgufTensor[] = [{ name: 'token_embd.weight', shape: [ck.vocabSize, ck.dim], data: ck.tokenEmbedding }];
  for (let l = 0; l < ck.nLayers; l++) {
    const b = `blk.${l}.`;
    tensors.push(
      { name: `${b}attn_norm.weight`, shape: [ck.dim], data: ck.rmsAtt[l]! },
      { name: `${b}attn_q.weight`, shape: [ck.dim, ck.dim], data: ck.wq[l]! },
      { name: `${b}attn_k.weight`, shape: [kvDim, ck.dim], data: ck.wk[l]! },
      { name: `${b}attn_v.weight`, shape: [kvDim, ck.dim], data: ck.wv[l]! },
      { name: `${b}attn_output.weight`, shape: [ck.dim, ck.dim], data: ck.wo[l]! },
      { name: `${b}ffn_norm.weight`, shape: [ck.dim], data: ck.rmsFfn[l]! },
      { name: `${b}ffn_gate.weight`, shape: [ck.hiddenDim, ck.dim], data: ck.w1[l]! },
      { name: `${b}ffn_down.weight`, shape: [ck.dim, ck.hiddenDim], data: ck.w2[l]! },
      { name: `${b}ffn_up.weight`, shape: [ck.hiddenDim, ck.dim], data: ck.w3[l]! },
    );
  }
  tensors.push({ name: 'output_norm.weight', shape: [ck.dim], data: ck.rmsFinal });
  // tied embeddings: llama.cpp falls back to token_embd when output.weight is absent
  if (!ck.shared) tensors.push({ name: 'output.weight', shape: [ck.vocabSize, ck.dim], data: ck.wcls });
  writeFileSync(outPath, encodeGguf(kv, tensors));
}
