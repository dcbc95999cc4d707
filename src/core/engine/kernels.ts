// Numeric kernels of the forward pass. Row-major layouts throughout: a weight matrix W of shape [outDim, inDim]
// stores row o at W[o * inDim ... (o + 1) * inDim). These are the signatures the forward pass calls; the fast
// matmul paths are checked against a naive reference in test/engine-kernels.
//
// matmul runs WebAssembly SIMD tiles (kernels-wasm.ts) when it can and register-blocked JS (kernels-js.ts) otherwise.
// Arrays from allocF32() live in the SIMD kernels' memory and are used without copying: allocate weights with it.
import { matmulJs } from './kernels-js';
import { HalfMatrix, matmulHalfJs, matmulHalfWasm, matmulWasm, swigluWasm, type WeightMatrix } from './kernels-wasm';

export { allocF32, HalfMatrix, isKernelResident, newKernelArena, releaseKernelScratch, wasmKernelsAvailable, type KernelArena, type WeightMatrix } from './kernels-wasm';
export { matmulJs } from './kernels-js';
export { attentionSimd } from './kernels-attention';

/**
 * out[r, o] = sum_i x[r, i] * w[o, i]   (x: [rows, inDim], w: [outDim, inDim], out: [rows, outDim]).
 * A 16-bit w gives exactly the result of its fp32 widening.
 */
export function matmul(out: Float32Array, x: Float32Array, w: WeightMatrix, rows: number, inDim: number, outDim: number): void {
  if (rows <= 0 || outDim <= 0) return;
  if (w instanceof HalfMatrix) {
    if (!matmulHalfWasm(out, x, w, rows, inDim, outDim)) matmulHalfJs(out, x, w, rows, inDim, outDim);
  } else if (!matmulWasm(out, x, w, rows, inDim, outDim)) matmulJs(out, x, w, rows, inDim, outDim);
}

/** w as fp32: itself, or a fresh widened copy of a 16-bit matrix */
export function widenedF32(w: WeightMatrix): Float32Array {
  if (!(w instanceof HalfMatrix)) return w;
  const out = new Float32Array(w.length);
  w.widenInto(0, w.length, out, 0);
  return out;
}

/** rows [from, from + count) of a [*, width] weight matrix as fp32 into dst at dstOffset */
export function weightRows(w: WeightMatrix, from: number, count: number, width: number, dst: Float32Array, dstOffset: number): void {
  if (w instanceof HalfMatrix) w.widenInto(from * width, count * width, dst, dstOffset);
  else dst.set(w.subarray(from * width, (from + count) * width), dstOffset);
}

/** RMSNorm of each row: out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight */
export function rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, rows: number, dim: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i]! * x[o + i]!;
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[o + i] = x[o + i]! * scale * weight[i]!;
  }
}

/** in-place softmax over x[offset, offset + n) */
export function softmax(x: Float32Array, offset: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[offset + i]! > max) max = x[offset + i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[offset + i]! - max);
    x[offset + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) x[offset + i] = x[offset + i]! / sum;
}

/** SwiGLU in place: gate[i] = silu(gate[i]) * up[i] (SIMD where it runs: within float rounding of this loop) */
export function swiglu(gate: Float32Array, up: Float32Array, n: number): void {
  if (swigluWasm(gate, up, n)) return;
  swigluJs(gate, up, n);
}

export function swigluJs(gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    gate[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

/** log-softmax value of logits[index] over logits[offset, offset + n) */
export function logSoftmaxAt(logits: Float32Array, offset: number, n: number, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[offset + i]! > max) max = logits[offset + i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[offset + i]! - max);
  return logits[offset + index]! - max - Math.log(sum);
}
