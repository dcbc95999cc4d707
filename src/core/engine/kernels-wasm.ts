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
//
// Threads share an arena: another worker attaches to its memory (attachKernelArena) and reads the weights in place,
// so a model's weights exist once however many threads run it. The bump pointer lives in the memory's first bytes
// and moves by compare-and-swap, so each thread's scratch (and anything it allocates) is its own region.
import { widenBf16, widenF16 } from './hf/dtype';
import { buildFmaProbeModule, buildKernelModule, FMA_PROBE_NAME, newKernelMemory, PV_NAME, SOFTMAX_NAME, SWIGLU_NAME, HALF_STREAM_MAX_ROWS, halfRowName, halfStreamName, matmulTileName, MULTI_ROW_TILE, ONE_ROW_TILE, ONE_ROW_WIDE_TILE, STREAM_TILES, widenName, type HalfDtype, type HalfRowKind, type KernelVariant } from './kernels-wasm-code';
import { matmulJs } from './kernels-js';
import { SclabError } from '../model/errors';

type TileFn = (
  out: number, x: number, w: number, rowTiles: number, inDim: number, colTiles: number, xStride: number, wStride: number, outStride: number,
) => void;

type WidenFn = (dst: number, src: number, groups: number) => void;
type HalfRowFn = (out: number, x: number, w: number, inDim: number, colTiles: number) => void;
type HalfStreamFn = (out: number, x: number, w: number, inDim: number, cols: number, xStride: number, outStride: number) => void;

/** the fp32 tiles of a module */
interface Tiles {
  multi: TileFn;
  one: TileFn;
  oneWide: TileFn;
  /** stream[R - 1]: R rows against one weight row at a time */
  stream: TileFn[];
}

/** this thread's runtime over one arena's memory */
interface WasmState extends Tiles {
  mem: WebAssembly.Memory;
  /** how this arena's kernels multiply and add (every thread attached to the memory uses the same) */
  variant: KernelVariant;
  widen: Record<HalfDtype, WidenFn>;
  halfRow: Record<HalfRowKind, HalfRowFn>;
  /** softmax_row (kernels-wasm-code.ts): the attention's softmax over one row of scores */
  softmax: (p: number, len4: number, scale: number) => void;
  swiglu: (gate: number, up: number, groups: number) => void;
  /** pv_row: attention's P·V for one query row over values as they lie in the cache */
  pv: (out: number, p: number, v: number, n: number, headDim: number, vStride: number) => void;
  /** halfStream[kind][R - 1]: the streaming kernel of R rows */
  halfStream: Record<HalfRowKind, HalfStreamFn[]>;
  heap: Float32Array;
  /** the memory's first word: the next free byte of the arena, moved atomically (threads allocate in one memory) */
  top: Uint32Array;
  /** every buffer object the memory has had: old views keep the old (shorter) buffer object */
  buffers: WeakSet<ArrayBufferLike>;
  scratch: Map<string, Slot>;
  /** splits big matmuls' columns between threads (matmul-team.ts), when set for this memory */
  splitter?: ColumnSplitter;
}
interface Slot {
  ptr: number;
  bytes: number;
}

const PAGE = 65536;
let state: WasmState | null | undefined;
/** this thread's compiled kernel modules, by variant ('fma' / 'mul-add'); null: the kernels cannot run here */
const compiled = new Map<string, WebAssembly.Module | null>();
/** the arena each memory buffer object belongs to (old buffer objects of a grown memory included) */
const owners = new WeakMap<ArrayBufferLike, WasmState>();
/** this thread's runtime over each memory */
const byMemory = new WeakMap<WebAssembly.Memory, WasmState>();

/** bytes at the start of every arena's memory kept for the shared bump pointer */
const HEADER_BYTES = 64;
/** Uint32 words of the header: the bump pointer, the arena's id, its kernel variant (VARIANT_FMA or 0) */
const HEADER = { top: 0, id: 1, variant: 2 } as const;
const VARIANT_FMA = 1;

// ---------------------------------------------------------------------------------------------------------------
// Fused multiply-add. Relaxed SIMD's f32x4.relaxed_madd is one instruction (vfmadd231ps on x64 with FMA3) where
// f32x4.mul + f32x4.add are two, and it rounds once. V8 ships relaxed SIMD from 11.4 (Chrome 114, VS Code's
// Electron); Node 20's V8 11.3 has it behind --experimental-wasm-relaxed-simd, which can be set at run time (it
// holds for the isolates, worker threads included, created after). FMA changes the rounding of every product-sum,
// so it is a setting (--engine-fma auto|on|off) and the run's notes say which kernels ran.

/** auto: fused multiply-add where the runtime has relaxed SIMD; on: required; off: multiply then add */
export type FmaMode = 'auto' | 'on' | 'off';
export const FMA_MODES: readonly FmaMode[] = ['auto', 'on', 'off'];

/** what relaxed SIMD gives in this runtime: null = not at all; else whether relaxed_madd rounds once (fused) */
let relaxedSimd: { fused: boolean } | null | undefined;

/** the variant of the kernels new arenas of this thread get (configureKernels) */
let fmaMode: FmaMode = 'auto';

/** Node's V8 flag that turns relaxed SIMD on; false where there is no node:v8 (then nothing is tried) */
function setRelaxedSimdFlag(): boolean {
  try {
    if (typeof require !== 'function') return false;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only where node:v8 exists (Node, Electron); a static import would tie the kernels to Node
    const v8 = require('node:v8') as { setFlagsFromString?: (flags: string) => void };
    if (typeof v8.setFlagsFromString !== 'function') return false;
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  } catch {
    return false;
  }
}

/** whether relaxed SIMD validates here (after setting V8's flag where it is behind one), and whether it fuses */
export function relaxedSimdSupport(): { fused: boolean } | null {
  if (relaxedSimd !== undefined) return relaxedSimd;
  const probe = buildFmaProbeModule();
  relaxedSimd = null;
  if (!WebAssembly.validate(probe) && !(setRelaxedSimdFlag() && WebAssembly.validate(probe))) return null;
  try {
    const madd = new WebAssembly.Instance(new WebAssembly.Module(probe), { env: { mem: newKernelMemory() } }).exports[FMA_PROBE_NAME] as (a: number, b: number, c: number) => number;
    // (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly, which a rounded product (1 + 2^-11) loses
    const a = 1 + 2 ** -12;
    relaxedSimd = { fused: madd(a, a, -(1 + 2 ** -11)) === 2 ** -24 };
  } catch {
    relaxedSimd = null;
  }
  return relaxedSimd;
}

/** the variant a mode gives in this runtime; 'on' without relaxed SIMD is an error */
export function resolveFma(mode: FmaMode): KernelVariant {
  if (mode === 'off') return { fma: false };
  const support = relaxedSimdSupport();
  if (support) return { fma: true };
  if (mode === 'on') throw new SclabError('config', 'engine FMA is on, but this runtime has no WebAssembly relaxed SIMD (Node 20 with node:v8, Node 22+, VS Code); use auto or off');
  return { fma: false };
}

/**
 * Sets the kernels this thread's new arenas (a loaded model, the scratch arena) use; the scratch arena made before
 * is dropped when the variant changes. Threads that attach to an arena's memory use the arena's variant whatever
 * theirs is, so that every thread sums alike. Throws for 'on' without relaxed SIMD.
 */
export function configureKernels(opts: { fma: FmaMode }): void {
  const v = resolveFma(opts.fma);
  fmaMode = opts.fma;
  if (state && state.variant.fma !== v.fma) state = undefined;
}

/** the run-notes line for an arena's kernels (or this thread's, for null) */
export function describeKernels(memory: WebAssembly.Memory | null): string {
  const s = memory ? byMemory.get(memory) : wasm();
  if (!s) return 'matmul kernels: JavaScript (no WebAssembly SIMD in this runtime)';
  if (s.variant.fma) return `matmul kernels: WebAssembly SIMD128 with relaxed-SIMD multiply-add (${relaxedSimdSupport()?.fused ? 'fused: one rounding per product-sum' : 'not fused on this CPU: multiply then add'}; --engine-fma ${fmaMode})`;
  return `matmul kernels: WebAssembly SIMD128, multiply then add (${fmaMode === 'off' ? '--engine-fma off' : 'no relaxed SIMD in this runtime'})`;
}

function variantKey(v: KernelVariant): string {
  return v.fma ? 'fma' : 'mul-add';
}

function moduleFor(v: KernelVariant): WebAssembly.Module | null {
  const key = variantKey(v);
  if (!compiled.has(key)) {
    try {
      compiled.set(key, new WebAssembly.Module(buildKernelModule(v)));
    } catch {
      compiled.set(key, null); // no WebAssembly SIMD or no shared memory in this runtime: callers fall back to JS kernels
    }
  }
  return compiled.get(key)!;
}

function tilesOf(ex: Record<string, unknown>): Tiles {
  return {
    multi: ex[matmulTileName(MULTI_ROW_TILE)] as TileFn,
    one: ex[matmulTileName(ONE_ROW_TILE)] as TileFn,
    oneWide: ex[matmulTileName(ONE_ROW_WIDE_TILE)] as TileFn,
    stream: STREAM_TILES.map((t) => ex[matmulTileName(t)] as TileFn),
  };
}

/**
 * This thread's runtime over `memory` (a fresh one when absent, with the variant this thread is configured for;
 * an existing memory's own variant otherwise), or null where the kernels cannot run.
 */
function instantiate(memory?: WebAssembly.Memory): WasmState | null {
  try {
    const header = memory ? new Uint32Array(memory.buffer, 0, 3) : null;
    const variant: KernelVariant = header ? { fma: header[HEADER.variant] === VARIANT_FMA } : resolveFma(fmaMode);
    if (variant.fma && !relaxedSimdSupport()) throw new SclabError('internal', 'a kernel memory made with fused multiply-add is attached in a thread without relaxed SIMD');
    const module = moduleFor(variant);
    if (!module) return null;
    const mem = memory ?? newKernelMemory();
    const instance = new WebAssembly.Instance(module, { env: { mem } });
    const ex = instance.exports as Record<string, unknown>;
    const top = new Uint32Array(mem.buffer, 0, 1);
    if (!memory) {
      Atomics.store(top, 0, HEADER_BYTES);
      const words = new Uint32Array(mem.buffer, 0, 3);
      words[HEADER.id] = (Math.random() * 2 ** 32) >>> 0; // arenaId: tells memories apart
      words[HEADER.variant] = variant.fma ? VARIANT_FMA : 0;
    }
    const s: WasmState = {
      mem,
      variant,
      ...tilesOf(ex),
      widen: { F16: ex[widenName('F16')] as WidenFn, BF16: ex[widenName('BF16')] as WidenFn },
      softmax: ex[SOFTMAX_NAME] as WasmState['softmax'],
      swiglu: ex[SWIGLU_NAME] as WasmState['swiglu'],
      pv: ex[PV_NAME] as WasmState['pv'],
      halfRow: { F16: ex[halfRowName('F16')] as HalfRowFn, BF16: ex[halfRowName('BF16')] as HalfRowFn, F16_FINITE: ex[halfRowName('F16_FINITE')] as HalfRowFn },
      halfStream: Object.fromEntries((['F16', 'BF16', 'F16_FINITE'] as const).map((k) => [k, Array.from({ length: HALF_STREAM_MAX_ROWS }, (_, i) => ex[halfStreamName(k, i + 1)] as HalfStreamFn)])) as Record<HalfRowKind, HalfStreamFn[]>,
      heap: new Float32Array(mem.buffer),
      top,
      buffers: new WeakSet([mem.buffer]),
      scratch: new Map(),
    };
    owners.set(mem.buffer, s);
    byMemory.set(mem, s);
    return s;
  } catch (e) {
    if (e instanceof SclabError) throw e;
    return null; // no WebAssembly SIMD or no shared memory in this runtime: callers fall back to JS kernels
  }
}

/** Where a model's weights go: a memory of its own, given back when the arena and its arrays are unreachable. */
export interface KernelArena {
  /** the arena's shared memory, for other threads to attach to (null: plain arrays, nothing to share) */
  readonly memory: WebAssembly.Memory | null;
  /** like the module-level allocF32, in this arena */
  allocF32(n: number): Float32Array;
  /** n zeroed 16-bit words for a HalfMatrix's bits, in this arena */
  allocU16(n: number): Uint16Array;
  /** whether matmul widens 16-bit weights in its SIMD kernel (else a loader should widen them once, at load) */
  readonly widensHalf: boolean;
}

/**
 * A weight matrix kept in its checkpoint's 16-bit format (F16 or BF16): half the memory and memory traffic of
 * fp32. matmul widens it inside the kernels, block by block, to exactly the fp32 values widening at load gives.
 */
export class HalfMatrix {
  constructor(
    readonly dtype: HalfDtype,
    readonly bits: Uint16Array,
  ) {}
  private finiteCache: boolean | undefined;
  get length(): number {
    return this.bits.length;
  }
  /** whether no value is an infinity or NaN (F16 then widens in fewer steps); read once: bits must not change after */
  get finite(): boolean {
    if (this.finiteCache === undefined) {
      const b = this.bits;
      const exp = this.dtype === 'F16' ? 0x7c00 : 0x7f80;
      let all = true;
      for (let i = 0; i < b.length; i++) {
        if ((b[i]! & exp) === exp) {
          all = false;
          break;
        }
      }
      this.finiteCache = all;
    }
    return this.finiteCache;
  }
  /** elements [from, from + n) as fp32 into dst at dstOffset */
  widenInto(from: number, n: number, dst: Float32Array, dstOffset: number): void {
    const src = this.bits.subarray(from, from + n);
    if (this.dtype === 'BF16') widenBf16(src, dst, dstOffset);
    else widenF16(src, dst, dstOffset);
  }
}

/** A weight matrix as the forward pass holds it: fp32, or 16-bit widened by the kernels. */
export type WeightMatrix = Float32Array | HalfMatrix;

/** a fresh arena (plain arrays where WebAssembly SIMD cannot run) */
export function newKernelArena(): KernelArena {
  const s = instantiate();
  if (s) return arenaOf(s);
  return { memory: null, allocF32: (n) => new Float32Array(n), allocU16: (n) => new Uint16Array(n), widensHalf: false };
}

/**
 * This thread's handle on an arena another thread made (its memory came in a message): arrays viewing that memory
 * (viewF32/viewU16) are used by matmul in place, and this thread's scratch is allocated in it, apart from others'.
 */
export function attachKernelArena(memory: WebAssembly.Memory): KernelArena {
  const s = instantiate(memory);
  if (!s) throw new Error('the WebAssembly SIMD kernels cannot run in this thread, so it cannot attach to a shared kernel memory');
  return arenaOf(s);
}

function arenaOf(s: WasmState): KernelArena {
  return { memory: s.mem, allocF32: (n) => allocIn(s, n), allocU16: (n) => allocU16In(s, n), widensHalf: true };
}

/** where a's elements lie in its arena's memory, to rebuild it in another thread with viewF32 / viewU16 (null: not in an arena) */
export function arenaOffset(a: Float32Array | Uint16Array): number | null {
  return owners.has(a.buffer) ? a.byteOffset : null;
}

/** the shared memory of the arena a lives in (null: a plain array) */
export function arenaMemoryOf(a: Float32Array | Uint16Array): WebAssembly.Memory | null {
  return owners.get(a.buffer)?.mem ?? null;
}

/** a random number written into a kernel memory when it was made: equal in two threads = one memory */
export function arenaId(memory: WebAssembly.Memory): number {
  return new Uint32Array(memory.buffer, 4, 1)[0]!;
}

/** bytes handed out so far in a kernel memory, by every thread attached to it */
export function arenaUsedBytes(memory: WebAssembly.Memory): number {
  return Atomics.load(new Uint32Array(memory.buffer, 0, 1), 0);
}

/** the n elements at byteOffset of an arena's memory (attached in this thread) */
export function viewF32(arena: KernelArena, byteOffset: number, n: number): Float32Array {
  return new Float32Array(currentBuffer(stateOfArena(arena)), byteOffset, n);
}
export function viewU16(arena: KernelArena, byteOffset: number, n: number): Uint16Array {
  return new Uint16Array(currentBuffer(stateOfArena(arena)), byteOffset, n);
}

function stateOfArena(arena: KernelArena): WasmState {
  const s = arena.memory && byMemory.get(arena.memory);
  if (!s) throw new Error('not an arena of this thread');
  return s;
}

/**
 * The memory's buffer as this thread sees it now; registered, and the heap view renewed, when the memory has grown
 * (here or in another thread: a shared memory's buffer object changes with its length).
 */
function currentBuffer(s: WasmState): ArrayBufferLike {
  const b = s.mem.buffer;
  if (!s.buffers.has(b)) {
    s.buffers.add(b);
    owners.set(b, s);
  }
  if (s.heap.buffer !== b) s.heap = new Float32Array(b);
  return b;
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
  for (;;) {
    const top = Atomics.load(s.top, 0);
    const ptr = Math.ceil(top / 16) * 16; // not a bit mask: offsets pass 2^31 in a model of over 2 GiB
    const end = ptr + bytes;
    if (end > 2 ** 32 - PAGE) throw new RangeError('the 4 GiB of a 32-bit WebAssembly memory are used up');
    // another thread may grow it at the same time: at worst the memory grows by one request more than needed
    const have = s.mem.buffer.byteLength;
    if (end > have) s.mem.grow(Math.ceil((end - have) / PAGE));
    if (Atomics.compareExchange(s.top, 0, top, end) !== top) continue; // another thread allocated first: again
    currentBuffer(s);
    return ptr;
  }
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
  return new Float32Array(currentBuffer(s), ptr, n);
}

function allocU16In(s: WasmState, n: number): Uint16Array {
  try {
    // reserve first: it may grow the memory, and the view must be taken on the grown buffer
    const ptr = reserve(s, n * 2);
    return new Uint16Array(currentBuffer(s), ptr, n);
  } catch (e) {
    if (e instanceof RangeError) return new Uint16Array(n);
    throw e;
  }
}

/** whether a lives in a kernel arena's memory (and so is used by matmul without copying) */
export function isKernelResident(a: Float32Array | Uint16Array): boolean {
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
  if (copy) s.heap.set(a.subarray(0, n), ptr >>> 2);
  return ptr;
}

/** byte offset of a's first n words in the kernels' memory, copying them into scratch `name` when not resident */
function place16(s: WasmState, a: Uint16Array, n: number, name: string): number {
  if (s.buffers.has(a.buffer)) return a.byteOffset;
  const ptr = scratchF32(s, name, Math.ceil(n / 2));
  new Uint16Array(s.mem.buffer, ptr, n).set(a.subarray(0, n));
  return ptr;
}

/** weights per matrix from which decode reads rows one after the other (a big model's matrices come from DRAM) */
const STREAM_MIN_WEIGHTS = 64 * 1024;

/**
 * Whether a product of 1–4 rows reads its weights as one sequential stream (mm_Rx1, mv_*_Rx1): about twice the rate
 * of the interleaved tiles when the matrix comes from DRAM; a small matrix (a small model, in cache) keeps the
 * interleaved tiles, whose independent accumulators win when memory is not the limit.
 */
function streamsFromMemory(inDim: number, outDim: number): boolean {
  return inDim * outDim >= STREAM_MIN_WEIGHTS;
}

/**
 * The strided matmul of kernels-wasm-code.ts over byte offsets op/xp/wp of the kernels' memory, any rows and
 * outDim (SIMD tiles, then the odd row and the outDim % 4 columns); inDim must be a positive multiple of 4.
 */
export function matmulAt(
  s: WasmState, op: number, xp: number, wp: number, rows: number, inDim: number, outDim: number, xStride: number, wStride: number, outStride: number,
): void {
  const colTiles = Math.floor(outDim / 4);
  const stream = rows <= STREAM_TILES.length && streamsFromMemory(inDim, outDim);
  const pairs = stream ? 0 : Math.floor(rows / MULTI_ROW_TILE.rows);
  if (colTiles > 0 && stream) s.stream[rows - 1]!(op, xp, wp, 1, inDim, colTiles * 4, xStride, wStride, outStride);
  else if (colTiles > 0) {
    if (pairs > 0) s.multi(op, xp, wp, pairs, inDim, colTiles, xStride, wStride, outStride);
    for (let r = pairs * MULTI_ROW_TILE.rows; r < rows; r++) {
      const o = op + r * outStride * 4;
      const xr = xp + r * xStride * 4;
      const wide = Math.floor(outDim / 8);
      if (wide > 0) s.oneWide(o, xr, wp, 1, inDim, wide, xStride, wStride, outStride);
      if (colTiles > wide * 2) s.one(o + wide * 32, xr, wp + wide * 8 * wStride * 4, 1, inDim, 1, xStride, wStride, outStride);
    }
  }
  const heap = s.heap;
  for (let o = colTiles * 4; o < outDim; o++) {
    const wo = (wp >>> 2) + o * wStride;
    for (let r = 0; r < rows; r++) {
      const xo = (xp >>> 2) + r * xStride;
      let acc = 0;
      for (let i = 0; i < inDim; i++) acc += heap[xo + i]! * heap[wo + i]!;
      heap[(op >>> 2) + r * outStride + o] = acc;
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
  const task: MatmulTask = { kind: 'F32', op, xp, wp, rows, inDim, outDim };
  if (!s.splitter?.split(task)) matmulAt(s, op, xp, wp, rows, inDim, outDim, inDim, inDim, outDim);
  if (!outResident) out.set(s.heap.subarray(op >>> 2, (op >>> 2) + rows * outDim));
  return true;
}

/**
 * up to this many input rows (one pass over the weights), 16-bit weights are widened in registers by a streaming
 * kernel instead of in blocks into scratch for the fp32 tiles: 2–3× the rate at 2–4 rows (BF16 576×1536 from DRAM)
 */
const HALF_STREAM_ROWS = HALF_STREAM_MAX_ROWS;

/** bytes of widened weight rows per block: small enough to stay in L1/L2 while every input row passes over it */
const WIDE_BLOCK_BYTES = 32 * 1024;

/**
 * out[r, o] = sum_i x[r, i] * w[o, i] for 16-bit w: blocks of weight rows are widened (SIMD) into a small scratch
 * and multiplied there by the fp32 tiles, so each weight is widened once per call however many rows x has; a single
 * row (decode) widens in registers instead. Either way the sums are exactly those of the widened-at-load matrix.
 * Returns false when the SIMD kernels cannot run.
 */
export function matmulHalfWasm(out: Float32Array, x: Float32Array, w: HalfMatrix, rows: number, inDim: number, outDim: number): boolean {
  if (inDim % 4 !== 0 || inDim === 0) return false;
  const s = owners.get(w.bits.buffer) ?? owners.get(x.buffer) ?? wasm();
  if (!s) return false;
  let wp: number, xp: number, op: number;
  try {
    wideScratch(s, inDim);
    wp = place16(s, w.bits, outDim * inDim, 'w16');
    xp = place(s, x, rows * inDim, 'x', true);
    op = place(s, out, rows * outDim, 'out', false);
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
  const task: MatmulTask = { kind: w.dtype === 'F16' && w.finite ? 'F16_FINITE' : w.dtype, op, xp, wp, rows, inDim, outDim };
  if (!s.splitter?.split(task)) halfColumns(s, task, 0, outDim);
  if (!s.buffers.has(out.buffer)) out.set(s.heap.subarray(op >>> 2, (op >>> 2) + rows * outDim));
  return true;
}

/** rows of widened weights per block, and the block's scratch (this thread's own) */
function wideScratch(s: WasmState, inDim: number): { blockRows: number; wideP: number } {
  const blockRows = Math.max(4, Math.floor(WIDE_BLOCK_BYTES / (inDim * 4 * 4)) * 4);
  return { blockRows, wideP: scratchF32(s, 'wide', blockRows * inDim) };
}

/** output columns [c0, c1) of a 16-bit matmul (c0 a multiple of 4: the one-row tiles start at the same columns) */
function halfColumns(s: WasmState, t: MatmulTask, c0: number, c1: number): void {
  const { op, xp, wp, rows, inDim, outDim } = t;
  const dtype: HalfDtype = t.kind === 'BF16' ? 'BF16' : 'F16';
  const { blockRows, wideP } = wideScratch(s, inDim);
  const widen = s.widen[dtype];
  // one row (decode) or a few (option continuations): widen in registers; the (c1 - c0) % 4 weight rows left over go
  // through the block path below, as they do for fp32 weights
  let o0 = c0;
  // (2–4 rows of a small matrix take the block path: fp32 weights of that shape get the batch tile, and the streaming
  // kernels do not fuse; see STREAM_VARIANT)
  if (inDim % 8 === 0 && rows <= HALF_STREAM_ROWS && (rows === 1 || streamsFromMemory(inDim, outDim))) {
    const colTiles = Math.floor((c1 - c0) / 4);
    const kind = t.kind as HalfRowKind;
    const out0 = op + c0 * 4;
    const w0 = wp + c0 * inDim * 2;
    if (rows === 1 && !streamsFromMemory(inDim, outDim)) s.halfRow[kind](out0, xp, w0, inDim, colTiles);
    else s.halfStream[kind][rows - 1]!(out0, xp, w0, inDim, colTiles * 4, inDim, outDim);
    o0 = c0 + colTiles * 4;
  }
  for (; o0 < c1; o0 += blockRows) {
    const cols = Math.min(blockRows, c1 - o0);
    const n = cols * inDim;
    const groups = n >> 3;
    widen(wideP, wp + o0 * inDim * 2, groups);
    if (groups * 8 < n) {
      // the last block's odd 4 elements
      const tail = new Float32Array(s.mem.buffer, wideP + groups * 32, n - groups * 8);
      const bits = new Uint16Array(s.mem.buffer, wp + (o0 * inDim + groups * 8) * 2, n - groups * 8);
      if (dtype === 'BF16') widenBf16(bits, tail, 0);
      else widenF16(bits, tail, 0);
    }
    matmulAt(s, op + o0 * 4, xp, wideP, rows, inDim, cols, inDim, inDim, outDim);
  }
}

/**
 * One matmul over byte offsets of a kernel memory (contiguous operands: x [rows, inDim], w [outDim, inDim] in fp32
 * or 16-bit, out [rows, outDim]), as a thread team splits it by output columns.
 */
export interface MatmulTask {
  kind: 'F32' | HalfRowKind;
  op: number;
  xp: number;
  wp: number;
  rows: number;
  inDim: number;
  outDim: number;
}

/** runs a big matmul on several threads; false: not worth it (too small), the caller runs it alone */
export interface ColumnSplitter {
  split(t: MatmulTask): boolean;
}

/** output columns [c0, c1) of a task, in this thread's runtime over the arena's memory; c0 a multiple of 4 */
export function matmulColumns(arena: KernelArena, t: MatmulTask, c0: number, c1: number): void {
  const s = stateOfArena(arena);
  currentBuffer(s); // the memory may have grown in the thread that published the task
  if (t.kind === 'F32') matmulAt(s, t.op + c0 * 4, t.xp, t.wp + c0 * t.inDim * 4, t.rows, t.inDim, c1 - c0, t.inDim, t.inDim, t.outDim);
  else halfColumns(s, t, c0, c1);
}

/** lets (or, with null, stops) a splitter share this thread's big matmuls on an arena's memory */
export function setColumnSplitter(arena: KernelArena, splitter: ColumnSplitter | null): void {
  const s = stateOfArena(arena);
  if (splitter) s.splitter = splitter;
  else delete s.splitter;
}

/** this thread's handle on a kernel memory: the runtime already over it, else a new attachment */
export function kernelArenaOf(memory: WebAssembly.Memory): KernelArena {
  const s = byMemory.get(memory);
  return s ? arenaOf(s) : attachKernelArena(memory);
}

/**
 * SwiGLU in place, gate[i] = silu(gate[i]) * up[i] for i < n, with the SIMD exp (within float rounding of Math.exp).
 * Returns false (and does nothing) where the SIMD kernels cannot run.
 */
export function swigluWasm(gate: Float32Array, up: Float32Array, n: number): boolean {
  const s = owners.get(gate.buffer) ?? wasm();
  if (!s) return false;
  const groups = n >> 2;
  let gp: number, upp: number;
  try {
    gp = place(s, gate, n, 'swiglu.gate', true);
    upp = place(s, up, n, 'swiglu.up', true);
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
  s.swiglu(gp, upp, groups);
  if (!s.buffers.has(gate.buffer)) gate.set(s.heap.subarray(gp >>> 2, (gp >>> 2) + groups * 4));
  for (let i = groups * 4; i < n; i++) {
    const g = gate[i]!;
    gate[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
  return true;
}

/** the JS fallback for 16-bit weights: widen the whole matrix (slow and transient; only where SIMD cannot run) */
export function matmulHalfJs(out: Float32Array, x: Float32Array, w: HalfMatrix, rows: number, inDim: number, outDim: number): void {
  const wide = new Float32Array(outDim * inDim);
  w.widenInto(0, outDim * inDim, wide, 0);
  matmulJs(out, x, wide, rows, inDim, outDim);
}
