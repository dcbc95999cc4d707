// Runtime of the WebAssembly SIMD kernels: module instances ("arenas"), each with its own shared memory and a bump
// allocator in it, and a matmul that runs the SIMD tiles on operands that live in (or are copied into) one of them.
//
// Operands allocated with allocF32() live in an arena's memory already and are used in place (no copy): a loader
// that puts its weight matrices there saves one copy of every weight per matmul call. The memory is shared so that
// views handed out earlier stay valid when it grows (a non-shared memory detaches its old buffer on grow).
//
// A WebAssembly memory never shrinks, so memory goes back only with the whole arena: each loaded model gets an arena
// of its own (newKernelArena), freed by the garbage collector once the model and every view into it are gone. The
// default arena holds scratch (attention, operands copied in) and what allocF32() is asked for without an arena;
// releaseKernelScratch() lets it go the same way (arrays still in it keep working; new scratch starts afresh).
import { buildKernelModule, matmulTileName, MULTI_ROW_TILE, ONE_ROW_TILE } from './kernels-wasm-code';

type TileFn = (
  out: number, x: number, w: number, rowTiles: number, inDim: number, colTiles: number, xStride: number, wStride: number, outStride: number,
) => void;

interface WasmState {
  mem: WebAssembly.Memory;
  multi: TileFn;
  one: TileFn;
  heap: Float32Array;
  /** next free byte of the arena */
  top: number;
  /** every buffer object the memory has had: old views keep the old (shorter) buffer object */
  buffers: WeakSet<ArrayBufferLike>;
  scratch: Map<string, Slot>;
}
interface Slot {
  ptr: number;
  bytes: number;
}

const PAGE = 65536;
let state: WasmState | null | undefined;
let compiled: WebAssembly.Module | null | undefined;
/** the arena each memory buffer object belongs to (old buffer objects of a grown memory included) */
const owners = new WeakMap<ArrayBufferLike, WasmState>();

function instantiate(): WasmState | null {
  try {
    compiled ??= new WebAssembly.Module(buildKernelModule());
    const instance = new WebAssembly.Instance(compiled, {});
    const ex = instance.exports as Record<string, unknown>;
    const mem = ex['mem'] as WebAssembly.Memory;
    const s: WasmState = {
      mem,
      multi: ex[matmulTileName(MULTI_ROW_TILE)] as TileFn,
      one: ex[matmulTileName(ONE_ROW_TILE)] as TileFn,
      heap: new Float32Array(mem.buffer),
      top: 64,
      buffers: new WeakSet([mem.buffer]),
      scratch: new Map(),
    };
    owners.set(mem.buffer, s);
    return s;
  } catch {
    compiled = null;
    return null; // no WebAssembly SIMD or no shared memory in this runtime: callers fall back to JS kernels
  }
}

/** Where a model's weights go: a memory of its own, given back when the arena and its arrays are unreachable. */
export interface KernelArena {
  /** like the module-level allocF32, in this arena */
  allocF32(n: number): Float32Array;
}

/** a fresh arena (plain arrays where WebAssembly SIMD cannot run) */
export function newKernelArena(): KernelArena {
  if (compiled === null) return { allocF32: (n) => new Float32Array(n) };
  const s = instantiate();
  return { allocF32: (n) => allocIn(s, n) };
}

/** Drops the default arena (scratch): its memory goes back once no array views it. Call when an engine closes. */
export function releaseKernelScratch(): void {
  if (state) state = undefined;
}

function wasm(): WasmState | null {
  if (state === undefined) state = instantiate();
  return state;
}

/** whether the WebAssembly SIMD kernels run in this runtime */
export function wasmKernelsAvailable(): boolean {
  return wasm() !== null;
}

function reserve(s: WasmState, bytes: number): number {
  const ptr = (s.top + 15) & ~15;
  const end = ptr + bytes;
  const have = s.mem.buffer.byteLength;
  if (end > have) {
    s.mem.grow(Math.ceil((end - have) / PAGE));
    s.buffers.add(s.mem.buffer);
    owners.set(s.mem.buffer, s);
    s.heap = new Float32Array(s.mem.buffer);
  }
  s.top = end;
  return ptr;
}

/**
 * A zeroed Float32Array of length n inside the kernels' memory (plain memory when WebAssembly is unavailable).
 * matmul uses such arrays in place; allocate weight matrices (and reused activation buffers) with it.
 * The arena never frees: allocate long-lived arrays only. Past the 4 GiB of a 32-bit memory it returns plain arrays.
 */
export function allocF32(n: number): Float32Array {
  return allocIn(wasm(), n);
}

function allocIn(s: WasmState | null, n: number): Float32Array {
  if (s === null) return new Float32Array(n);
  let ptr: number;
  try {
    ptr = reserve(s, n * 4);
  } catch (e) {
    // the 4 GiB of a 32-bit WebAssembly memory are used up: a plain array still works (matmul copies it in)
    if (e instanceof RangeError) return new Float32Array(n);
    throw e;
  }
  return new Float32Array(s.mem.buffer, ptr, n);
}

/** whether a lives in a kernel arena's memory (and so is used by matmul without copying) */
export function isKernelResident(a: Float32Array): boolean {
  return owners.has(a.buffer);
}

/**
 * Byte offset of a reusable scratch region of n floats named `name` (contents undefined). A later call with the
 * same name may move it; a call that grows the memory invalidates earlier heap views, so take heapF32() after.
 */
export function scratchF32(s: WasmState, name: string, n: number): number {
  let slot = s.scratch.get(name);
  if (slot === undefined) s.scratch.set(name, (slot = { ptr: 0, bytes: 0 }));
  if (slot.bytes < n * 4) {
    slot.bytes = Math.max(n * 4, slot.bytes * 2);
    slot.ptr = reserve(s, slot.bytes);
  }
  return slot.ptr;
}

/** byte offset of a's first n floats in the kernels' memory, copying them into scratch `name` when not resident */
function place(s: WasmState, a: Float32Array, n: number, name: string, copy: boolean): number {
  if (s.buffers.has(a.buffer)) return a.byteOffset;
  const ptr = scratchF32(s, name, n);
  if (copy) s.heap.set(a.subarray(0, n), ptr >> 2);
  return ptr;
}

/**
 * The strided matmul of kernels-wasm-code.ts over byte offsets op/xp/wp of the kernels' memory, any rows and
 * outDim (SIMD tiles, then the odd row and the outDim % 4 columns); inDim must be a positive multiple of 4.
 */
export function matmulAt(
  s: WasmState, op: number, xp: number, wp: number, rows: number, inDim: number, outDim: number, xStride: number, wStride: number, outStride: number,
): void {
  const colTiles = Math.floor(outDim / 4);
  const pairs = Math.floor(rows / MULTI_ROW_TILE.rows);
  if (colTiles > 0) {
    if (pairs > 0) s.multi(op, xp, wp, pairs, inDim, colTiles, xStride, wStride, outStride);
    for (let r = pairs * MULTI_ROW_TILE.rows; r < rows; r++) {
      s.one(op + r * outStride * 4, xp + r * xStride * 4, wp, 1, inDim, colTiles, xStride, wStride, outStride);
    }
  }
  const heap = s.heap;
  for (let o = colTiles * 4; o < outDim; o++) {
    const wo = (wp >> 2) + o * wStride;
    for (let r = 0; r < rows; r++) {
      const xo = (xp >> 2) + r * xStride;
      let acc = 0;
      for (let i = 0; i < inDim; i++) acc += heap[xo + i]! * heap[wo + i]!;
      heap[(op >> 2) + r * outStride + o] = acc;
    }
  }
}

/** the kernels' runtime, or null where WebAssembly SIMD cannot run */
export function wasmState(): WasmState | null {
  return wasm();
}
export type { WasmState };

/**
 * out[r, o] = sum_i x[r, i] * w[o, i] with the SIMD tiles. Returns false (and does nothing) when it cannot run:
 * no WebAssembly, or inDim not a multiple of 4.
 */
export function matmulWasm(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): boolean {
  if (inDim % 4 !== 0 || inDim === 0) return false;
  // the arena of the weights (a model's own), else of the input, else the default one; the others are copied in
  const s = owners.get(w.buffer) ?? owners.get(x.buffer) ?? wasm();
  if (!s) return false;
  let wp: number, xp: number, op: number;
  try {
    wp = place(s, w, outDim * inDim, 'w', true);
    xp = place(s, x, rows * inDim, 'x', true);
    op = place(s, out, rows * outDim, 'out', false);
  } catch (e) {
    if (e instanceof RangeError) return false; // no room left for scratch in the 4 GiB memory: the JS kernel runs
    throw e;
  }
  const outResident = s.buffers.has(out.buffer);
  matmulAt(s, op, xp, wp, rows, inDim, outDim, inDim, inDim, outDim);
  if (!outResident) out.set(s.heap.subarray(op >> 2, (op >> 2) + rows * outDim));
  return true;
}
