// Numeric kernels of the forward pass. Row-major layouts throughout: a weight matrix W of shape [outDim, inDim]
// stores row o at W[o * inDim ... (o + 1) * inDim). These are the signatures the forward pass calls; the fast
// matmul paths are checked against a naive reference in test/engine-kernels.
//
// matmul runs WebAssembly SIMD tiles (kernels-wasm.ts) when it can and register-blocked JS (kernels-js.ts) otherwise.
// Arrays from allocF32() live in the SIMD kernels' memory and are used without copying: allocate weights with it.
import { matmulJs } from './kernels-js';
import { matmulWasm } from './kernels-wasm';

export { allocF32, isKernelResident, newKernelArena, releaseKernelScratch, wasmKernelsAvailable, type KernelArena } from './kernels-wasm';
export { matmulJs } from './kernels-js';
export { attentionSimd } from './kernels-attention';

/** out[r, o] = sum_i x[r, i] * w[o, i]   (x: [rows, inDim], w: [outDim, inDim], out: [rows, outDim]) */
export function matmul(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): void {
  if (rows <= 0 || outDim <= 0) return;
  if (!matmulWasm(out, x, w, rows, inDim, outDim)) matmulJs(out, x, w, rows, inDim, outDim);
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

/** SwiGLU in place: gate[i] = silu(gate[i]) * up[i] */
export function swiglu(gate: Float32Array, up: Float32Array, n: number): void {
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
