// Loader for llama2.c's legacy checkpoint format (run.c): a header of 7 int32, then fp32 tensors in a fixed order.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SclabError } from '../model/errors';
import { newKernelArena } from './kernels';
import { loadLlama2cTokenizer } from './llama2c-tokenizer';
import { plainChat } from './plain-chat';
import { attachWeights, type SharedWeights } from './shared-weights';
import type { LayerWeights, LoadedModel, ModelConfig, ModelWeights } from './types';

const HEADER_INTS = 7;
const HEADER_BYTES = HEADER_INTS * 4;
/** "ak42": the newer llama2.c export formats (version 1, 2) start with this magic; only the legacy one is read */
const VERSIONED_MAGIC = 0x616b3432;

interface Header {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  shared: boolean;
}

function readHeader(buf: Uint8Array, file: string): Header {
  if (buf.byteLength < HEADER_BYTES) throw new SclabError('model', `${file}: ${buf.byteLength} bytes is shorter than the 28-byte llama2.c header`);
  const v = new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES);
  const ints = Array.from({ length: HEADER_INTS }, (_, i) => v.getInt32(i * 4, true));
  if (ints[0] === VERSIONED_MAGIC) {
    throw new SclabError('model', `${file}: a versioned llama2.c export (magic "ak42"); only the legacy format is supported — re-export with version 0`);
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = ints as [number, number, number, number, number, number, number];
  const names = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  [dim, hiddenDim, nLayers, nHeads, nKvHeads, Math.abs(rawVocab), seqLen].forEach((n, i) => {
    if (!(n > 0 && n < 1 << 24)) throw new SclabError('model', `${file}: header field ${names[i]} = ${ints[i]} is not a plausible size; not a llama2.c checkpoint?`);
  });
  if (dim % nHeads !== 0) throw new SclabError('model', `${file}: dim ${dim} is not divisible by n_heads ${nHeads}`);
  if (nHeads % nKvHeads !== 0) throw new SclabError('model', `${file}: n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`);
  if ((dim / nHeads) % 2 !== 0) throw new SclabError('model', `${file}: head size ${dim / nHeads} is odd; RoPE needs pairs`);
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(rawVocab), seqLen, shared: rawVocab > 0 };
}

/** floats after the header: the tensors in run.c's order, freq_cis, and the classifier when unshared */
function payloadFloats(h: Header, config: ModelConfig): number {
  const { dim, hiddenDim, nLayers, vocabSize } = h;
  const kvDim = config.nKvHeads * config.headDim;
  const perLayer = 2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * hiddenDim * dim;
  return vocabSize * dim * (h.shared ? 1 : 2) + nLayers * perLayer + dim + h.seqLen * config.headDim;
}

/** Splits the float payload in run.c's order into views. */
function layoutWeights(f: Float32Array, h: Header, config: ModelConfig): ModelWeights {
  const { dim, hiddenDim, nLayers, vocabSize } = h;
  const kvDim = config.nKvHeads * config.headDim;
  let p = 0;
  const take = (n: number): Float32Array => {
    const t = f.subarray(p, p + n);
    p += n;
    return t;
  };
  const perLayer = (n: number): Float32Array[] => {
    const all = take(nLayers * n);
    return Array.from({ length: nLayers }, (_, l) => all.subarray(l * n, (l + 1) * n));
  };
  const tokenEmbedding = take(vocabSize * dim);
  const attnNorm = perLayer(dim);
  const wq = perLayer(dim * dim);
  const wk = perLayer(kvDim * dim);
  const wv = perLayer(kvDim * dim);
  const wo = perLayer(dim * dim);
  const ffnNorm = perLayer(dim);
  const w1 = perLayer(hiddenDim * dim);
  const w2 = perLayer(dim * hiddenDim);
  const w3 = perLayer(hiddenDim * dim);
  const finalNorm = take(dim);
  p += h.seqLen * config.headDim; // freq_cis real and imag, [seq_len, head_size/2] each: RoPE is recomputed
  const output = h.shared ? tokenEmbedding : take(vocabSize * dim);
  const layers: LayerWeights[] = Array.from({ length: nLayers }, (_, l) => ({
    attnNorm: attnNorm[l]!,
    wq: wq[l]!,
    wk: wk[l]!,
    wv: wv[l]!,
    wo: wo[l]!,
    ffnNorm: ffnNorm[l]!,
    w1: w1[l]!,
    w2: w2[l]!,
    w3: w3[l]!,
  }));
  if (p !== f.length) throw new SclabError('internal', `llama2.c layout read ${p} floats of ${f.length}`);
  return { config, tokenEmbedding, layers, finalNorm, output };
}

/** Reads a llama2.c legacy checkpoint and its tokenizer (only the tokenizer when another worker shared the weights). */
export async function loadLlama2c(binPath: string, tokenizerPath: string, shared?: SharedWeights): Promise<LoadedModel> {
  if (shared) {
    const tokenizer = await loadLlama2cTokenizer(tokenizerPath, shared.config.vocabSize);
    return { identity: shared.identity, weights: attachWeights(shared).weights, tokenizer, chat: plainChat, addBos: true };
  }
  let raw: Buffer;
  try {
    raw = await readFile(binPath);
  } catch (e) {
    throw new SclabError('model', `cannot read checkpoint ${binPath}: ${(e as Error).message}`, { cause: e });
  }
  const h = readHeader(raw, binPath);
  const config: ModelConfig = {
    family: 'llama2c',
    dim: h.dim,
    hiddenDim: h.hiddenDim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    vocabSize: h.vocabSize,
    maxSeqLen: h.seqLen,
    ropeTheta: 10000,
    ropeStyle: 'interleaved',
    rmsNormEps: 1e-5,
    tiedEmbeddings: h.shared,
    qkvBias: false,
  };
  const expectedBytes = HEADER_BYTES + payloadFloats(h, config) * 4;
  if (raw.byteLength < expectedBytes) {
    throw new SclabError(
      'model',
      `${binPath}: truncated: the header (dim ${h.dim}, ${h.nLayers} layers, vocab ${h.vocabSize}${h.shared ? '' : ', unshared classifier'}) needs ${expectedBytes} bytes, the file has ${raw.byteLength}`,
    );
  }
  if (raw.byteLength > expectedBytes) {
    throw new SclabError('model', `${binPath}: ${raw.byteLength - expectedBytes} bytes more than the header implies (${expectedBytes}); not a legacy llama2.c checkpoint?`);
  }
  const tokenizer = await loadLlama2cTokenizer(tokenizerPath, h.vocabSize);
  // One aligned copy of the payload, in a kernel memory of the model's own so the kernels read weights in place
  // (it is given back with the model); every tensor is a view into it.
  const floats = newKernelArena().allocF32((expectedBytes - HEADER_BYTES) / 4);
  new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength).set(raw.subarray(HEADER_BYTES));
  const weights = layoutWeights(floats, h, config);
  const weightsSha256 = createHash('sha256').update(raw).digest('hex');
  return {
    identity: { name: path.basename(binPath).replace(/\.bin$/i, ''), nLayers: h.nLayers, dModel: h.dim, weightsSha256 },
    weights,
    tokenizer,
    chat: plainChat,
    addBos: true,
  };
}
