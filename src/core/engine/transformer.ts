// The forward pass of a Llama-family decoder over ModelWeights, with a KV cache. New tokens are processed as a batch
// (rows = tokens, matrix–matrix products through kernels.matmul), so prefill costs a few large matmuls instead of
// many matrix–vector ones; decode is the same path with one row. All buffers are preallocated per state and grow
// only when a longer batch or context arrives, so the token loop does not allocate.
import { cancelledError, SclabError } from '../model/errors';
import { Capture, type CaptureOptions, type HiddenStates } from './capture';
import { applyIntervention, type Intervention } from './intervention';
import { attentionSimd, matmul, rmsnorm, swiglu, weightRows } from './kernels';
import { addBias, addInPlace, applyRope, attention, ropeTable } from './ops';
import type { ModelConfig, ModelWeights } from './types';

export interface ForwardOptions {
  /** first row (index into ids) whose logits are wanted; default the last row; ids.length = none */
  logitsFrom?: number;
  capture?: CaptureOptions;
  /** checked before every layer; true stops the pass with SclabError('cancelled') */
  isAborted?: () => boolean;
  /** steering or ablation of the residual stream (intervention.ts); the KV cache then holds steered keys and values */
  intervention?: Intervention | null;
}

export interface ForwardResult {
  /** logits of rows logitsFrom … ids.length-1, [logitRows, vocab] from index 0; a buffer owned by the state, valid until its next forward */
  logits: Float32Array;
  logitRows: number;
  hidden?: HiddenStates;
}

/** Rows per batch: bounds the activation buffers of long prompts; big enough for matrix–matrix kernels to pay off. */
const DEFAULT_MAX_CHUNK = 128;
/** batches at least this long use the SIMD attention kernel (decode too: its exp and P·V are SIMD) */
const SIMD_ATTENTION_ROWS = 1;
/** initial KV-cache capacity in positions; doubles on demand up to maxSeqLen */
const INITIAL_CACHE = 256;

export class ForwardState {
  readonly config: ModelConfig;
  /** tokens already in the KV cache */
  pos = 0;
  private readonly qDim: number;
  private readonly kvDim: number;
  private readonly maxChunk: number;
  private rowCap = 0;
  private cacheCap = 0;
  private keys: Float32Array[] = [];
  private values: Float32Array[] = [];
  private x = new Float32Array(0);
  private xb = new Float32Array(0);
  private q = new Float32Array(0);
  private k = new Float32Array(0);
  private v = new Float32Array(0);
  private att = new Float32Array(0);
  private o = new Float32Array(0);
  private hb = new Float32Array(0);
  private hb2 = new Float32Array(0);
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private scores = new Float32Array(0);
  private logits = new Float32Array(0);

  constructor(
    readonly weights: ModelWeights,
    opts: { maxChunk?: number } = {},
  ) {
    const c = weights.config;
    this.config = c;
    this.qDim = c.nHeads * c.headDim;
    this.kvDim = c.nKvHeads * c.headDim;
    this.maxChunk = Math.max(1, opts.maxChunk ?? DEFAULT_MAX_CHUNK);
  }

  /** forget the cached tokens (buffers are kept) */
  reset(): void {
    this.pos = 0;
  }

  /** keep only the first n cached tokens */
  truncate(n: number): void {
    if (n < 0 || n > this.pos) throw new SclabError('internal', `cannot truncate a cache of ${this.pos} tokens to ${n}`);
    this.pos = n;
  }

  /** copies of every layer's keys and values at positions [from, to) */
  readKv(from: number, to: number): { keys: Float32Array[]; values: Float32Array[] } {
    if (from < 0 || to > this.pos || from > to) throw new SclabError('internal', `cannot read positions ${from}…${to} of a cache of ${this.pos}`);
    const a = from * this.kvDim;
    const b = to * this.kvDim;
    return { keys: this.keys.map((k) => k.slice(a, b)), values: this.values.map((v) => v.slice(a, b)) };
  }

  /** appends n positions of keys and values (per layer, from index 0 of each array) to the cache */
  appendKv(keys: Float32Array[], values: Float32Array[], n: number): void {
    if (n <= 0) return;
    if (this.pos + n > this.config.maxSeqLen) throw new SclabError('bad_request', `${this.pos + n} tokens exceed the model's context of ${this.config.maxSeqLen}`);
    this.ensureCache(this.pos + n);
    const at = this.pos * this.kvDim;
    const len = n * this.kvDim;
    for (let l = 0; l < this.config.nLayers; l++) {
      this.keys[l]!.set(keys[l]!.subarray(0, len), at);
      this.values[l]!.set(values[l]!.subarray(0, len), at);
    }
    this.pos += n;
  }

  /** Runs ids at positions pos … pos+ids.length-1, appends them to the cache and returns the wanted logits. */
  forward(ids: ArrayLike<number>, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const total = ids.length;
    if (this.pos + total > c.maxSeqLen) {
      throw new SclabError('bad_request', `${this.pos + total} tokens exceed the model's context of ${c.maxSeqLen}`);
    }
    for (let i = 0; i < total; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new SclabError('bad_request', `token id ${id} is outside the vocabulary (0..${c.vocabSize - 1})`);
    }
    const logitsFrom = Math.max(0, Math.min(opts.logitsFrom ?? total - 1, total));
    const logitRows = total - logitsFrom;
    if (this.logits.length < logitRows * c.vocabSize) this.logits = new Float32Array(logitRows * c.vocabSize);
    this.ensureCache(this.pos + total);
    const capture = opts.capture ? new Capture(opts.capture, total, c.dim, c.nLayers) : null;
    for (let first = 0; first < total; first += this.maxChunk) {
      const rows = Math.min(this.maxChunk, total - first);
      this.ensureRows(rows);
      this.chunk(ids, first, rows, logitsFrom, capture, opts);
      this.pos += rows;
    }
    const result: ForwardResult = { logits: this.logits, logitRows };
    if (capture) result.hidden = capture.finish();
    return result;
  }

  private chunk(ids: ArrayLike<number>, first: number, rows: number, logitsFrom: number, capture: Capture | null, opts: ForwardOptions): void {
    const { isAborted } = opts;
    const iv = opts.intervention ?? null;
    const c = this.config;
    const w = this.weights;
    const { dim, hiddenDim, nHeads, nKvHeads, headDim, vocabSize } = c;
    const { qDim, kvDim, x, xb, q, k, v, att, o, hb, hb2 } = this;
    const start = this.pos;

    for (let r = 0; r < rows; r++) weightRows(w.tokenEmbedding, ids[first + r]!, 1, dim, x, r * dim);
    capture?.add('residual', 0, x, first, rows);
    ropeTable(this.cos, this.sin, start, rows, headDim, c.ropeTheta);

    for (let l = 0; l < c.nLayers; l++) {
      if (isAborted?.()) throw cancelledError();
      const lw = w.layers[l]!;
      rmsnorm(xb, x, lw.attnNorm, rows, dim, c.rmsNormEps);
      matmul(q, xb, lw.wq, rows, dim, qDim);
      matmul(k, xb, lw.wk, rows, dim, kvDim);
      matmul(v, xb, lw.wv, rows, dim, kvDim);
      if (lw.bq) addBias(q, lw.bq, rows, qDim);
      if (lw.bk) addBias(k, lw.bk, rows, kvDim);
      if (lw.bv) addBias(v, lw.bv, rows, kvDim);
      applyRope(q, rows, nHeads, headDim, this.cos, this.sin, c.ropeStyle);
      applyRope(k, rows, nKvHeads, headDim, this.cos, this.sin, c.ropeStyle);
      const keys = this.keys[l]!;
      const values = this.values[l]!;
      keys.set(k.subarray(0, rows * kvDim), start * kvDim);
      values.set(v.subarray(0, rows * kvDim), start * kvDim);
      // the scalar loop where the SIMD kernels cannot run (head size not a multiple of 4, no WebAssembly SIMD)
      if (rows < SIMD_ATTENTION_ROWS || !attentionSimd(att, q, keys, values, rows, start, nHeads, nKvHeads, headDim)) {
        attention(att, q, keys, values, rows, start, nHeads, nKvHeads, headDim, this.scores);
      }
      matmul(o, att, lw.wo, rows, qDim, dim);
      capture?.add('attn', l, o, first, rows);
      addInPlace(x, o, rows * dim);

      rmsnorm(xb, x, lw.ffnNorm, rows, dim, c.rmsNormEps);
      matmul(hb, xb, lw.w1, rows, dim, hiddenDim);
      matmul(hb2, xb, lw.w3, rows, dim, hiddenDim);
      swiglu(hb, hb2, rows * hiddenDim);
      matmul(o, hb, lw.w2, rows, hiddenDim, dim);
      capture?.add('mlp', l, o, first, rows);
      addInPlace(x, o, rows * dim);
      if (iv) applyIntervention(iv, l + 1, x, rows, dim, start);
      if (l < c.nLayers - 1 || capture?.opts.convention !== 'hf') capture?.add('residual', l + 1, x, first, rows);
    }

    // Final norm: of the whole chunk when HF's last hidden state is captured, else only of rows that need logits.
    const firstLogit = Math.max(0, logitsFrom - first);
    const hfLast = capture?.opts.convention === 'hf' && capture.wants('residual');
    const normFrom = hfLast ? 0 : firstLogit;
    if (normFrom >= rows) return;
    if (normFrom === 0) rmsnorm(xb, x, w.finalNorm, rows, dim, c.rmsNormEps);
    else rmsnorm(xb.subarray(normFrom * dim), x.subarray(normFrom * dim), w.finalNorm, rows - normFrom, dim, c.rmsNormEps);
    if (hfLast) capture!.add('residual', c.nLayers, xb, first, rows);
    if (firstLogit >= rows) return;
    const src = firstLogit === 0 ? xb : xb.subarray(firstLogit * dim);
    const outRow = first + firstLogit - logitsFrom;
    const dst = outRow === 0 ? this.logits : this.logits.subarray(outRow * vocabSize);
    matmul(dst, src, w.output, rows - firstLogit, dim, vocabSize);
  }

  private ensureRows(rows: number): void {
    if (rows <= this.rowCap) return;
    const c = this.config;
    const n = rows;
    this.x = new Float32Array(n * c.dim);
    this.xb = new Float32Array(n * c.dim);
    this.q = new Float32Array(n * this.qDim);
    this.k = new Float32Array(n * this.kvDim);
    this.v = new Float32Array(n * this.kvDim);
    this.att = new Float32Array(n * this.qDim);
    this.o = new Float32Array(n * c.dim);
    this.hb = new Float32Array(n * c.hiddenDim);
    this.hb2 = new Float32Array(n * c.hiddenDim);
    this.cos = new Float32Array((n * c.headDim) / 2);
    this.sin = new Float32Array((n * c.headDim) / 2);
    this.rowCap = n;
  }

  private ensureCache(positions: number): void {
    if (positions <= this.cacheCap) return;
    let cap = Math.max(this.cacheCap, Math.min(INITIAL_CACHE, this.config.maxSeqLen));
    while (cap < positions) cap = Math.min(cap * 2, this.config.maxSeqLen);
    const grow = (old: Float32Array): Float32Array => {
      const a = new Float32Array(cap * this.kvDim);
      a.set(old.subarray(0, this.pos * this.kvDim));
      return a;
    };
    const empty = new Float32Array(0);
    this.keys = Array.from({ length: this.config.nLayers }, (_, l) => grow(this.keys[l] ?? empty));
    this.values = Array.from({ length: this.config.nLayers }, (_, l) => grow(this.values[l] ?? empty));
    this.scores = new Float32Array(cap);
    this.cacheCap = cap;
  }
}
