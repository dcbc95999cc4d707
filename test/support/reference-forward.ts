// An independent fp32 reference of the Llama forward pass for llama2.c checkpoints: its own file reader and plain
// loops, sharing no code with src/core/engine, so that tests can check both the engine and the GGUF conversion
// (through llama.cpp) against it. Slow on purpose-simple code; fine for stories260K.
import { readFileSync } from 'node:fs';

export interface Llama2cCheckpoint {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  shared: boolean;
  tokenEmbedding: Float32Array; // [vocab, dim]
  rmsAtt: Float32Array[]; // per layer [dim]
  wq: Float32Array[]; // [dim, dim]
  wk: Float32Array[]; // [kvDim, dim]
  wv: Float32Array[]; // [kvDim, dim]
  wo: Float32Array[]; // [dim, dim]
  rmsFfn: Float32Array[];
  w1: Float32Array[]; // [hidden, dim]
  w2: Float32Array[]; // [dim, hidden]
  w3: Float32Array[]; // [hidden, dim]
  rmsFinal: Float32Array;
  wcls: Float32Array; // [vocab, dim]; tokenEmbedding when shared
}

/** reads the legacy llama2.c format (7 int32 header, then fp32 tensors) described in stories260K/SOURCE.md */
export function readLlama2cCheckpoint(path: string): Llama2cCheckpoint {
  const buf = readFileSync(path);
  const hdr = new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 28));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabRaw, seqLen] = Array.from(hdr) as [number, number, number, number, number, number, number];
  const vocabSize = Math.abs(vocabRaw);
  const floats = new Float32Array(buf.buffer.slice(buf.byteOffset + 28, buf.byteOffset + buf.length - ((buf.length - 28) % 4)));
  let p = 0;
  const take = (n: number): Float32Array => {
    if (p + n > floats.length) throw new Error(`${path}: truncated checkpoint`);
    const t = floats.slice(p, p + n);
    p += n;
    return t;
  };
  const perLayer = (n: number): Float32Array[] => Array.from({ length: nLayers }, () => take(n));
  const headSize = dim / nHeads;
  const kvDim = nKvHeads * headSize;
  const tokenEmbedding = take(vocabSize * dim);
  const rmsAtt = perLayer(dim);
  const wq = perLayer(dim * dim);
  const wk = perLayer(kvDim * dim);
  const wv = perLayer(kvDim * dim);
  const wo = perLayer(dim * dim);
  const rmsFfn = perLayer(dim);
  const w1 = perLayer(hiddenDim * dim);
  const w2 = perLayer(dim * hiddenDim);
  const w3 = perLayer(hiddenDim * dim);
  const rmsFinal = take(dim);
  take(seqLen * headSize); // legacy freq_cis real and imag, unused
  const shared = vocabRaw > 0;
  const wcls = shared ? tokenEmbedding : take(vocabSize * dim);
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, shared, tokenEmbedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, wcls };
}

function rmsnorm(x: Float64Array, w: Float32Array): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const s = 1 / Math.sqrt(ss / x.length + 1e-5);
  return x.map((v, i) => v * s * w[i]!);
}

function matvec(w: Float32Array, x: Float64Array, outDim: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[o * n + i]! * x[i]!;
    out[o] = s;
  }
  return out;
}

/** llama2.c RoPE: rotates adjacent pairs (x[2j], x[2j+1]) of each head by pos * 10000^(-2j/headSize) */
function rope(v: Float64Array, pos: number, headSize: number): void {
  for (let i = 0; i < v.length; i += 2) {
    const j = i % headSize;
    const theta = pos * Math.pow(10000, -j / headSize);
    const [c, s] = [Math.cos(theta), Math.sin(theta)];
    const [a, b] = [v[i]!, v[i + 1]!];
    v[i] = a * c - b * s;
    v[i + 1] = a * s + b * c;
  }
}

/** log-softmax over the vocabulary of the logits after each token of `tokens` (float64 arithmetic) */
export function referenceLogProbs(ck: Llama2cCheckpoint, tokens: number[]): Float64Array[] {
  const { dim, nHeads, nKvHeads, hiddenDim, vocabSize } = ck;
  const hs = dim / nHeads;
  const kvDim = nKvHeads * hs;
  const keys: Float64Array[][] = Array.from({ length: ck.nLayers }, () => []);
  const values: Float64Array[][] = Array.from({ length: ck.nLayers }, () => []);
  const result: Float64Array[] = [];
  tokens.forEach((tok, pos) => {
    let x = Float64Array.from(ck.tokenEmbedding.subarray(tok * dim, (tok + 1) * dim));
    for (let l = 0; l < ck.nLayers; l++) {
      const h = rmsnorm(x, ck.rmsAtt[l]!);
      const q = matvec(ck.wq[l]!, h, dim);
      const k = matvec(ck.wk[l]!, h, kvDim);
      const v = matvec(ck.wv[l]!, h, kvDim);
      rope(q, pos, hs);
      rope(k, pos, hs);
      keys[l]!.push(k);
      values[l]!.push(v);
      const att = new Float64Array(dim);
      for (let head = 0; head < nHeads; head++) {
        const kvh = Math.floor(head / (nHeads / nKvHeads));
        const scores = keys[l]!.map((kt) => {
          let s = 0;
          for (let i = 0; i < hs; i++) s += q[head * hs + i]! * kt[kvh * hs + i]!;
          return s / Math.sqrt(hs);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        values[l]!.forEach((vt, t) => {
          for (let i = 0; i < hs; i++) att[head * hs + i]! += (e[t]! / z) * vt[kvh * hs + i]!;
        });
      }
      const o = matvec(ck.wo[l]!, att, dim);
      x = x.map((xv, i) => xv + o[i]!);
      const h2 = rmsnorm(x, ck.rmsFfn[l]!);
      const g = matvec(ck.w1[l]!, h2, hiddenDim);
      const u = matvec(ck.w3[l]!, h2, hiddenDim);
      const act = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]!);
      const d = matvec(ck.w2[l]!, act, dim);
      x = x.map((xv, i) => xv + d[i]!);
    }
    const logits = matvec(ck.wcls, rmsnorm(x, ck.rmsFinal), vocabSize);
    const m = Math.max(...logits);
    let z = 0;
    for (const v of logits) z += Math.exp(v - m);
    const lz = m + Math.log(z);
    result.push(logits.map((v) => v - lz));
  });
  return result;
}
