// Engine operations beside the kernels of kernels.ts: RoPE, causal attention over the KV cache, residual adds and
// the small reductions sampling needs. Row-major [rows, width] layouts, no allocation.
import type { RopeStyle } from './types';

/** out[i] += y[i] for i < n */
export function addInPlace(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! + y[i]!;
}

/** x[r, i] += bias[i] */
export function addBias(x: Float32Array, bias: Float32Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    for (let i = 0; i < width; i++) x[o + i] = x[o + i]! + bias[i]!;
  }
}

/**
 * cos/sin of the rotation angles for positions startPos … startPos+rows-1: [rows, headDim/2]. Pair j turns by
 * pos * theta^(-2j/headDim) in both RoPE styles; the styles differ only in which two elements form pair j.
 */
export function ropeTable(cos: Float32Array, sin: Float32Array, startPos: number, rows: number, headDim: number, theta: number): void {
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    const pos = startPos + r;
    for (let j = 0; j < half; j++) {
      const freq = 1 / Math.pow(theta, (2 * j) / headDim);
      const a = pos * freq;
      cos[r * half + j] = Math.cos(a);
      sin[r * half + j] = Math.sin(a);
    }
  }
}

/** Rotates every head of x ([rows, nHeads*headDim]) in place by the angles of ropeTable. */
export function applyRope(x: Float32Array, rows: number, nHeads: number, headDim: number, cos: Float32Array, sin: Float32Array, style: RopeStyle): void {
  const half = headDim / 2;
  const width = nHeads * headDim;
  // interleaved: pair j is (2j, 2j+1); half (rotate-half): pair j is (j, j+half)
  const stride = style === 'interleaved' ? 2 : 1;
  const partner = style === 'interleaved' ? 1 : half;
  for (let r = 0; r < rows; r++) {
    const t = r * half;
    for (let h = 0; h < nHeads; h++) {
      const base = r * width + h * headDim;
      for (let j = 0; j < half; j++) {
        const c = cos[t + j]!;
        const s = sin[t + j]!;
        const i0 = base + j * stride;
        const i1 = i0 + partner;
        const a = x[i0]!;
        const b = x[i1]!;
        x[i0] = a * c - b * s;
        x[i1] = a * s + b * c;
      }
    }
  }
}

/**
 * Causal multi-head attention for `rows` new positions starting at startPos, over a cache that already holds their
 * keys and values. q and out: [rows, nHeads*headDim]; caches: [positions, nKvHeads*headDim]. Query head h reads
 * key/value head floor(h / (nHeads/nKvHeads)) (grouped-query attention). scores: at least startPos+rows floats.
 * The softmax is fused: scores are exponentiated in place and the weighted value sum is divided by their total once.
 * This is the decode hot spot after the matmuls, hence the 4-wide unrolled path for the usual head sizes.
 */
export function attention(
  out: Float32Array,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  rows: number,
  startPos: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
  scores: Float32Array,
): void {
  const qDim = nHeads * headDim;
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const norm = Math.sqrt(headDim);
  const wide = headDim % 4 === 0;
  for (let r = 0; r < rows; r++) {
    const n = startPos + r + 1;
    for (let h = 0; h < nHeads; h++) {
      const qo = r * qDim + h * headDim;
      const kvo = Math.floor(h / group) * headDim;
      let max = -Infinity;
      for (let t = 0; t < n; t++) {
        const ko = t * kvDim + kvo;
        let s = 0;
        if (wide) {
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let i = 0; i < headDim; i += 4) {
            s += q[qo + i]! * keys[ko + i]!;
            s1 += q[qo + i + 1]! * keys[ko + i + 1]!;
            s2 += q[qo + i + 2]! * keys[ko + i + 2]!;
            s3 += q[qo + i + 3]! * keys[ko + i + 3]!;
          }
          s += s1 + s2 + s3;
        } else {
          for (let i = 0; i < headDim; i++) s += q[qo + i]! * keys[ko + i]!;
        }
        s /= norm;
        scores[t] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t = 0; t < n; t++) {
        const e = Math.exp(scores[t]! - max);
        scores[t] = e;
        sum += e;
      }
      const inv = 1 / sum;
      if (wide) {
        for (let i = 0; i < headDim; i += 4) {
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let t = 0, vo = kvo + i; t < n; t++, vo += kvDim) {
            const p = scores[t]!;
            a0 += p * values[vo]!;
            a1 += p * values[vo + 1]!;
            a2 += p * values[vo + 2]!;
            a3 += p * values[vo + 3]!;
          }
          out[qo + i] = a0 * inv;
          out[qo + i + 1] = a1 * inv;
          out[qo + i + 2] = a2 * inv;
          out[qo + i + 3] = a3 * inv;
        }
      } else {
        for (let i = 0; i < headDim; i++) {
          let acc = 0;
          for (let t = 0, vo = kvo + i; t < n; t++, vo += kvDim) acc += scores[t]! * values[vo]!;
          out[qo + i] = acc * inv;
        }
      }
    }
  }
}

/** index of the largest of x[offset, offset+n) (the first on ties, like run.c) */
export function argmax(x: Float32Array, offset: number, n: number): number {
  let best = 0;
  let max = x[offset]!;
  for (let i = 1; i < n; i++) {
    const v = x[offset + i]!;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}

/** log(sum(exp(x[offset, offset+n)))) */
export function logSumExp(x: Float32Array, offset: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[offset + i]! > max) max = x[offset + i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(x[offset + i]! - max);
  return max + Math.log(sum);
}

/** The k most likely ids of one row of logits with their log-probabilities, most likely first. */
export function topLogprobs(logits: Float32Array, offset: number, n: number, k: number): Array<{ id: number; logprob: number }> {
  if (k <= 0) return [];
  const lse = logSumExp(logits, offset, n);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = logits[offset + i]!;
    if (ids.length === k && v <= logits[offset + ids[k - 1]!]!) continue;
    let j = Math.min(ids.length, k - 1);
    while (j > 0 && logits[offset + ids[j - 1]!]! < v) j--;
    ids.splice(j, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids.map((id) => ({ id, logprob: logits[offset + id]! - lse }));
}
