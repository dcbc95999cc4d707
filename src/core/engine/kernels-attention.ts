// Causal grouped-query attention as two SIMD matmuls per head (scores = Q·Kᵀ, out = P·V), instead of scalar dot
// products per (query, key) pair. Same contract as ops.attention; worth it from a few rows up (prefill), where the
// scalar loops cost as much as all the projections together.
import { matmulAt, scratchF32, wasmState, type WasmState } from './kernels-wasm';

/**
 * from this many query rows up, P·V runs as a matmul over a transposed copy of the values (worth its n × kvDim
 * copy); below (decode, short continuations) pv_row reads the values where they lie
 */
const TRANSPOSE_ROWS = 4;

/**
 * Causal multi-head attention for `rows` new positions starting at startPos over a cache that already holds their
 * keys and values. q and out: [rows, nHeads*headDim]; keys, values: [positions, nKvHeads*headDim]; query head h
 * reads key/value head floor(h / (nHeads/nKvHeads)). Returns false (and does nothing) when the SIMD kernels cannot
 * run here or headDim % 4 != 0: the caller then uses ops.attention.
 */
export function attentionSimd(
  out: Float32Array,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  rows: number,
  startPos: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
): boolean {
  const s = wasmState();
  if (s === null || headDim % 4 !== 0 || headDim === 0) return false;
  if (rows <= 0) return true;
  const n = startPos + rows;
  const d: Dims = { rows, startPos, nHeads, headDim, n, n4: Math.ceil(n / 4) * 4, qDim: nHeads * headDim, kvDim: nKvHeads * headDim, group: nHeads / nKvHeads };
  if (rows < TRANSPOSE_ROWS && headDim % 16 === 0) return attentionFewRows(s, { out, q, keys, values }, d);
  const { n4, qDim, kvDim, group } = d; // score rows padded to n4 with zeros so that P·V runs on whole SIMD lanes
  const ptr = scratchRegions(s, d, 'attention.vT', kvDim * n4);
  if (!ptr) return false; // the 4 GiB memory is full: the caller's JS attention runs
  const { qp, kp, vp: vtp, sp, op } = ptr;
  const heap = s.heap;
  heap.set(q.subarray(0, rows * qDim), qp >>> 2);
  heap.set(keys.subarray(0, n * kvDim), kp >>> 2);
  // values transposed: vT[j][t] = values[t][j] (j over all kv heads' dims), so P·V reads both operands along t
  const vt = vtp >>> 2;
  for (let t = 0; t < n; t++) {
    const src = t * kvDim;
    for (let j = 0; j < kvDim; j++) heap[vt + j * n4 + t] = values[src + j]!;
  }
  for (let j = 0; j < kvDim; j++) heap.fill(0, vt + j * n4 + n, vt + (j + 1) * n4);

  const scale = 1 / Math.sqrt(headDim);
  const sc = sp >>> 2;
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor(h / group);
    matmulAt(s, sp, qp + h * headDim * 4, kp + g * headDim * 4, rows, headDim, n, qDim, kvDim, n4);
    for (let r = 0; r < rows; r++) {
      const base = sc + r * n4;
      const len = startPos + r + 1;
      const len4 = Math.ceil(len / 4) * 4;
      heap.fill(-Infinity, base + len, base + len4); // future positions (causal mask): exp gives exactly 0
      s.softmax(sp + r * n4 * 4, len4, scale); // SIMD exp: within float rounding of Math.exp
      heap.fill(0, base + len4, base + n4); // the rest of the future, and padding
    }
    matmulAt(s, op + h * headDim * 4, sp, vtp + g * headDim * n4 * 4, rows, n4, headDim, n4, n4, qDim);
  }
  out.set(heap.subarray(op >>> 2, (op >>> 2) + rows * qDim));
  return true;
}

/** the shapes of one attention call */
interface Dims {
  rows: number;
  startPos: number;
  nHeads: number;
  headDim: number;
  /** positions attended: startPos + rows */
  n: number;
  /** n rounded up to whole SIMD lanes */
  n4: number;
  qDim: number;
  kvDim: number;
  /** query heads per key/value head */
  group: number;
}

interface Regions {
  qp: number;
  kp: number;
  vp: number;
  sp: number;
  op: number;
}

/**
 * every scratch region of a call, reserved before any is written (reserving may grow the memory and replace the heap
 * view); the values' region is named and sized by the caller; null: the 4 GiB memory is full
 */
function scratchRegions(s: WasmState, d: Dims, valuesName: string, valuesFloats: number): Regions | null {
  try {
    return {
      qp: scratchF32(s, 'attention.q', d.rows * d.qDim),
      kp: scratchF32(s, 'attention.k', d.n * d.kvDim),
      vp: scratchF32(s, valuesName, valuesFloats),
      sp: scratchF32(s, 'attention.scores', d.rows * d.n4),
      op: scratchF32(s, 'attention.out', d.rows * d.qDim),
    };
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** attentionSimd for a few query rows: Q·Kᵀ by the matmul tiles, softmax_row, then pv_row on the cached values */
function attentionFewRows(
  s: WasmState,
  { out, q, keys, values }: { out: Float32Array; q: Float32Array; keys: Float32Array; values: Float32Array },
  d: Dims,
): boolean {
  const { rows, startPos, nHeads, headDim, n, n4, qDim, kvDim, group } = d;
  const ptr = scratchRegions(s, d, 'attention.v', n * kvDim);
  if (!ptr) return false;
  const { qp, kp, vp, sp, op } = ptr;
  const heap = s.heap;
  heap.set(q.subarray(0, rows * qDim), qp >>> 2);
  heap.set(keys.subarray(0, n * kvDim), kp >>> 2);
  heap.set(values.subarray(0, n * kvDim), vp >>> 2);
  const scale = 1 / Math.sqrt(headDim);
  const sc = sp >>> 2;
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor(h / group);
    matmulAt(s, sp, qp + h * headDim * 4, kp + g * headDim * 4, rows, headDim, n, qDim, kvDim, n4);
    for (let r = 0; r < rows; r++) {
      const len = startPos + r + 1;
      const len4 = Math.ceil(len / 4) * 4;
      heap.fill(-Infinity, sc + r * n4 + len, sc + r * n4 + len4);
      s.softmax(sp + r * n4 * 4, len4, scale);
      s.pv(op + (r * qDim + h * headDim) * 4, sp + r * n4 * 4, vp + g * headDim * 4, len, headDim, kvDim);
    }
  }
  out.set(heap.subarray(op >>> 2, (op >>> 2) + rows * qDim));
  return true;
}
