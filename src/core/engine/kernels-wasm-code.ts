// The WebAssembly SIMD matmul kernels, written with the encoder of kernels-wasm-asm.ts.
//
// mm_RxC(out, x, w, rowTiles, inDim, colTiles, xStride, wStride, outStride), every pointer a byte offset into the
// module's memory and every stride in floats:
//   for rt < rowTiles, ct < colTiles, r < R, c < C, with row = rt*R + r and col = ct*C + c:
//     out[row*outStride + col] = sum_{i < inDim} x[row*xStride + i] * w[col*wStride + i]
// (a plain matmul has xStride = wStride = inDim and outStride = outDim; attention reads heads out of wider rows)
// Requires inDim % 4 == 0 and inDim > 0. R×C f32x4 accumulators run along i (both operands are contiguous along i)
// and are summed horizontally at the end of a tile. The loop over column tiles is outside the loop over row tiles,
// so a tile of C weight rows stays in L1 while the activations stream from L2.
import { encodeModule, F32, FnBuilder, I32, V128, type WasmFunction } from './kernels-wasm-asm';

export interface TileShape {
  rows: number;
  cols: number;
}

export function matmulTileName(t: TileShape): string {
  return `mm_${t.rows}x${t.cols}`;
}

/**
 * How the kernels multiply and add. fma: one f32x4.relaxed_madd (relaxed SIMD; a fused multiply-add, one rounding,
 * where the hardware has FMA) instead of f32x4.mul then f32x4.add (two roundings). Every kernel of a module uses
 * the same, so that all tiles (and the 16-bit kernels) still give the same sums to the bit.
 */
export interface KernelVariant {
  fma: boolean;
}

export const MUL_ADD: KernelVariant = { fma: false };

/** emits acc + a * b (a and b v128 locals, or the value already on the stack when a is null) and stores it in acc */
function emitMadd(f: FnBuilder, v: KernelVariant, acc: number, a: number | null, b: number | (() => void)): void {
  const pushB = (): void => {
    if (typeof b === 'number') f.get(b);
    else b();
  };
  if (v.fma) {
    if (a !== null) f.get(a);
    pushB();
    f.get(acc).f32x4RelaxedMadd().set(acc);
  } else if (a === null) {
    // a is on the stack: a * b, then + acc (float addition commutes: the sum is acc + a*b to the bit)
    pushB();
    f.f32x4Mul().get(acc).f32x4Add().set(acc);
  } else {
    f.get(acc).get(a);
    pushB();
    f.f32x4Mul().f32x4Add().set(acc);
  }
}

/**
 * mm_RxC as described at the top of this file. The inner loop is one step of four floats per pass and is not
 * unrolled on purpose: V8's TurboFan schedules every load of an unrolled body before its arithmetic, and the extra
 * vectors live at once spill (measured: slower). R*C accumulators + R + C operand vectors must fit the 15 xmm
 * registers V8 allocates on x64 (2×4: 14; 3×4 or 2×6 spill). One pointer per operand row: tiles generated for
 * fixed strides (one pointer per operand, the other rows at constant offsets) measured no faster with FMA (47–48
 * GFLOP/s either way at 64×576×1536 here: the two FMA pipes are the limit, not the pointer increments).
 */
export function matmulTile(R: number, C: number, v: KernelVariant): WasmFunction {
  const [out, x, w, rowTiles, inDim, colTiles, xStride, wStride, outStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8] as const;
  const f = new FnBuilder(9);
  const xRowBytes = f.local(I32);
  const wRowBytes = f.local(I32);
  const outBytes = f.local(I32);
  const ct = f.local(I32);
  const rt = f.local(I32);
  const wTile = f.local(I32);
  const xTile = f.local(I32);
  const xEnd = f.local(I32);
  const outRow = f.local(I32);
  const xp = Array.from({ length: R }, () => f.local(I32));
  const wp = Array.from({ length: C }, () => f.local(I32));
  const acc = Array.from({ length: R * C }, () => f.local(V128));
  const xv = Array.from({ length: R }, () => f.local(V128));
  const wv = f.local(V128);

  f.get(xStride).i32(2).i32Shl().set(xRowBytes);
  f.get(wStride).i32(2).i32Shl().set(wRowBytes);
  f.get(outStride).i32(2).i32Shl().set(outBytes);
  f.i32(0).set(ct);
  f.block().loop(); // over column tiles
  f.get(ct).get(colTiles).i32LtU().i32Eqz().brIf(1);
  f.get(w).get(ct).i32(C).i32Mul().get(wRowBytes).i32Mul().i32Add().set(wTile);
  f.i32(0).set(rt);
  f.block().loop(); // over row tiles
  f.get(rt).get(rowTiles).i32LtU().i32Eqz().brIf(1);
  f.get(x).get(rt).i32(R).i32Mul().get(xRowBytes).i32Mul().i32Add().set(xTile);
  f.get(xTile).get(inDim).i32(2).i32Shl().i32Add().set(xEnd);
  xp.forEach((p, r) => (r === 0 ? f.get(xTile) : f.get(xp[r - 1]!).get(xRowBytes).i32Add()).set(p));
  wp.forEach((p, c) => (c === 0 ? f.get(wTile) : f.get(wp[c - 1]!).get(wRowBytes).i32Add()).set(p));
  for (const a of acc) f.v128Zero().set(a);

  f.loop(); // over i, four floats at a time
  xp.forEach((p, r) => f.get(p).v128Load(0).set(xv[r]!));
  for (let c = 0; c < C; c++) {
    f.get(wp[c]!).v128Load(0).set(wv);
    for (let r = 0; r < R; r++) emitMadd(f, v, acc[r * C + c]!, xv[r]!, wv);
  }
  for (const p of [...xp, ...wp]) f.addConst(p, 16);
  f.get(xp[0]!).get(xEnd).i32LtU().brIf(0);
  f.end();

  for (let r = 0; r < R; r++) {
    // outRow = out + ((rt*R + r) * outStride + ct*C) * 4
    f.get(out).get(rt).i32(R).i32Mul().i32(r).i32Add().get(outBytes).i32Mul().i32Add();
    f.get(ct).i32(C * 4).i32Mul().i32Add().set(outRow);
    for (let c = 0; c < C; c++) {
      const a = acc[r * C + c]!;
      f.get(outRow);
      f.get(a).f32x4ExtractLane(0).get(a).f32x4ExtractLane(1).f32Add();
      f.get(a).f32x4ExtractLane(2).f32Add().get(a).f32x4ExtractLane(3).f32Add();
      f.f32Store(c * 4);
    }
  }
  f.addConst(rt, 1).br(0);
  f.end().end();
  f.addConst(ct, 1).br(0);
  f.end().end();
  return { name: matmulTileName({ rows: R, cols: C }), params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], results: [], body: f };
}

/** the 16-bit weight formats the kernels widen */
export type HalfDtype = 'F16' | 'BF16';

export function widenName(dtype: HalfDtype): string {
  return `widen_${dtype.toLowerCase()}`;
}

/**
 * widen_f16 / widen_bf16(dst, src, groups): dst[i] = fp32 of the 16-bit src[i] for i < 8*groups (byte offsets).
 * BF16 is the top half of an fp32 (a shift). F16 moves its exponent and fraction up 13 bits and multiplies by 2^112
 * (exact: it rebases the exponent from 15 to 127 and turns subnormals into normals), then puts the sign back and
 * sets the exponent to all ones for infinities and NaN — every value comes out exactly as halfToFloat gives it.
 */
/** emits the fp32 widening of the four 16-bit values (zero-extended to i32 lanes) in local `lanes`; leaves an f32x4 */
function emitWiden(f: FnBuilder, dtype: HalfDtype, lanes: number): void {
  if (dtype === 'BF16') {
    f.get(lanes).i32(16).i32x4Shl();
    return;
  }
  f.get(lanes).v128I32x4(0x7fff).v128And().i32(13).i32x4Shl().v128I32x4(0x77800000).f32x4Mul();
  f.get(lanes).v128I32x4(0x8000).v128And().i32(16).i32x4Shl().v128Or();
  f.get(lanes).v128I32x4(0x7c00).v128And().v128I32x4(0x7c00).i32x4Eq().v128I32x4(0x7f800000).v128And().v128Or();
}

function widenHalf(dtype: HalfDtype): WasmFunction {
  const [dst, src, groups] = [0, 1, 2] as const;
  const f = new FnBuilder(3);
  const end = f.local(I32);
  const h = f.local(V128);
  const lanes = f.local(V128);
  f.get(src).get(groups).i32(16).i32Mul().i32Add().set(end);
  f.block().loop();
  f.get(src).get(end).i32LtU().i32Eqz().brIf(1);
  f.get(src).v128Load(0).set(h);
  f.get(h).i32x4ExtendLowI16x8U().set(lanes);
  f.get(dst);
  emitWiden(f, dtype, lanes);
  f.v128Store(0);
  f.get(h).i32x4ExtendHighI16x8U().set(lanes);
  f.get(dst);
  emitWiden(f, dtype, lanes);
  f.v128Store(16);
  f.addConst(src, 16).addConst(dst, 32).br(0);
  f.end().end();
  return { name: widenName(dtype), params: [I32, I32, I32], results: [], body: f };
}

/** what a one-row kernel widens: BF16, F16, or F16 known to hold no infinity or NaN (a shorter conversion) */
export type HalfRowKind = HalfDtype | 'F16_FINITE';

export function halfRowName(kind: HalfRowKind): string {
  return `mv_${kind.toLowerCase()}_1x4`;
}

/**
 * F16 without infinities or NaN, from sign-extended lanes: shifted left 13 the sign lands in bit 31 with copies of it
 * in bits 28–30, which the mask clears; the multiply by 2^112 then rebases the exponent and keeps the sign.
 */
function emitWidenFiniteF16(f: FnBuilder, lanes: number): void {
  f.get(lanes).i32(13).i32x4Shl().v128I32x4(0x8fffffff | 0).v128And().v128I32x4(0x77800000).f32x4Mul();
}

/**
 * mv_f16_1x4 / mv_bf16_1x4(out, x, w, inDim, colTiles): one input row against 16-bit weight rows, widened in
 * registers (decode: each weight is used once, so it is read from memory at 16 bits and never stored wide).
 * out[col] = sum_i x[i] * widen(w[col*inDim + i]) for col < 4*colTiles; inDim % 8 == 0. The four lanes of each
 * accumulator take i mod 4 in the same order as mm_1x4, so the sums are those of the fp32 kernel on the widened rows.
 */
function halfRowTile(kind: HalfRowKind, v: KernelVariant): WasmFunction {
  const finite = kind === 'F16_FINITE';
  const C = 4;
  const [out, x, w, inDim, colTiles] = [0, 1, 2, 3, 4] as const;
  const f = new FnBuilder(5);
  const widen = (lanes: number): void => (finite ? emitWidenFiniteF16(f, lanes) : emitWiden(f, kind as HalfDtype, lanes));
  const wRowBytes = f.local(I32);
  const ct = f.local(I32);
  const xp = f.local(I32);
  const xEnd = f.local(I32);
  const outCell = f.local(I32);
  const wp = Array.from({ length: C }, () => f.local(I32));
  const acc = Array.from({ length: C }, () => f.local(V128));
  const xlo = f.local(V128);
  const xhi = f.local(V128);
  const h = f.local(V128);
  const lanes = f.local(V128);

  f.get(inDim).i32(1).i32Shl().set(wRowBytes);
  f.get(x).get(inDim).i32(2).i32Shl().i32Add().set(xEnd);
  f.i32(0).set(ct);
  f.block().loop(); // over column tiles
  f.get(ct).get(colTiles).i32LtU().i32Eqz().brIf(1);
  wp.forEach((p, c) => (c === 0 ? f.get(w).get(ct).i32(C).i32Mul().get(wRowBytes).i32Mul().i32Add() : f.get(wp[c - 1]!).get(wRowBytes).i32Add()).set(p));
  f.get(x).set(xp);
  for (const a of acc) f.v128Zero().set(a);
  f.loop(); // over i, eight at a time
  f.get(xp).v128Load(0).set(xlo);
  f.get(xp).v128Load(16).set(xhi);
  for (let c = 0; c < C; c++) {
    f.get(wp[c]!).v128Load(0).set(h);
    f.get(h);
    if (finite) f.i32x4ExtendLowI16x8S();
    else f.i32x4ExtendLowI16x8U();
    f.set(lanes);
    emitMadd(f, v, acc[c]!, xlo, () => widen(lanes));
    f.get(h);
    if (finite) f.i32x4ExtendHighI16x8S();
    else f.i32x4ExtendHighI16x8U();
    f.set(lanes);
    emitMadd(f, v, acc[c]!, xhi, () => widen(lanes));
    f.addConst(wp[c]!, 16);
  }
  f.addConst(xp, 32);
  f.get(xp).get(xEnd).i32LtU().brIf(0);
  f.end();
  f.get(out).get(ct).i32(C * 4).i32Mul().i32Add().set(outCell);
  for (let c = 0; c < C; c++) {
    const a = acc[c]!;
    f.get(outCell);
    f.get(a).f32x4ExtractLane(0).get(a).f32x4ExtractLane(1).f32Add();
    f.get(a).f32x4ExtractLane(2).f32Add().get(a).f32x4ExtractLane(3).f32Add();
    f.f32Store(c * 4);
  }
  f.addConst(ct, 1).br(0);
  f.end().end();
  return { name: halfRowName(kind), params: [I32, I32, I32, I32, I32], results: [], body: f };
}

/** the most input rows a streaming 16-bit kernel takes at once (R accumulators, 2R inputs, 2 weights: 15 registers) */
export const HALF_STREAM_MAX_ROWS = 4;

export function halfStreamName(kind: HalfRowKind, rows: number): string {
  return `mv_${kind.toLowerCase()}_${rows}x1`;
}

/**
 * mv_f16_Rx1 / mv_bf16_Rx1(out, x, w, inDim, cols, xStride, outStride): R input rows (stride xStride floats) against
 * 16-bit weight rows read one after the other — a single sequential stream, which the prefetchers serve about twice
 * as fast from DRAM as rows read side by side — each weight widened in registers once for all R rows:
 * out[r*outStride + col] = sum_i x[r*xStride + i] * widen(w[col*inDim + i]) for r < R, col < cols; inDim % 8 == 0.
 * For decode (R = 1) and few-row passes (the option continuations), where widening whole blocks into scratch costs
 * as much as the products. Each accumulator's lanes run as in mv_*_1x4 and mm_*: the same sums to the bit.
 */
function halfStreamTile(kind: HalfRowKind, R: number, v: KernelVariant): WasmFunction {
  const finite = kind === 'F16_FINITE';
  const [out, x, w, inDim, cols, xStride, outStride] = [0, 1, 2, 3, 4, 5, 6] as const;
  const f = new FnBuilder(7);
  const widen = (lanes: number): void => (finite ? emitWidenFiniteF16(f, lanes) : emitWiden(f, kind as HalfDtype, lanes));
  const xRowBytes = f.local(I32);
  const outBytes = f.local(I32);
  const col = f.local(I32);
  const wp = f.local(I32);
  const wEnd = f.local(I32);
  const outCell = f.local(I32);
  const xp = Array.from({ length: R }, () => f.local(I32));
  const acc = Array.from({ length: R }, () => f.local(V128));
  const h = f.local(V128);
  const lanes = f.local(V128);
  const wlo = f.local(V128);
  const whi = f.local(V128);

  f.get(xStride).i32(2).i32Shl().set(xRowBytes);
  f.get(outStride).i32(2).i32Shl().set(outBytes);
  f.get(w).set(wp); // the rows are contiguous: one pointer runs through all of them
  f.i32(0).set(col);
  f.block().loop(); // over weight rows (output columns)
  f.get(col).get(cols).i32LtU().i32Eqz().brIf(1);
  f.get(wp).get(inDim).i32(1).i32Shl().i32Add().set(wEnd);
  xp.forEach((p, r) => (r === 0 ? f.get(x) : f.get(xp[r - 1]!).get(xRowBytes).i32Add()).set(p));
  for (const a of acc) f.v128Zero().set(a);
  f.loop(); // over i, eight at a time
  f.get(wp).v128Load(0).set(h);
  f.get(h);
  if (finite) f.i32x4ExtendLowI16x8S();
  else f.i32x4ExtendLowI16x8U();
  f.set(lanes);
  widen(lanes);
  f.set(wlo);
  f.get(h);
  if (finite) f.i32x4ExtendHighI16x8S();
  else f.i32x4ExtendHighI16x8U();
  f.set(lanes);
  widen(lanes);
  f.set(whi);
  for (let r = 0; r < R; r++) {
    f.get(xp[r]!).v128Load(0);
    emitMadd(f, v, acc[r]!, null, wlo);
    f.get(xp[r]!).v128Load(16);
    emitMadd(f, v, acc[r]!, null, whi);
    f.addConst(xp[r]!, 32);
  }
  f.addConst(wp, 16);
  f.get(wp).get(wEnd).i32LtU().brIf(0);
  f.end();
  for (let r = 0; r < R; r++) {
    const a = acc[r]!;
    // out + r*outBytes + col*4
    f.get(out).i32(r).get(outBytes).i32Mul().i32Add().get(col).i32(2).i32Shl().i32Add().set(outCell);
    f.get(outCell);
    f.get(a).f32x4ExtractLane(0).get(a).f32x4ExtractLane(1).f32Add();
    f.get(a).f32x4ExtractLane(2).f32Add().get(a).f32x4ExtractLane(3).f32Add();
    f.f32Store(0);
  }
  f.addConst(col, 1).br(0);
  f.end().end();
  return { name: halfStreamName(kind, R), params: [I32, I32, I32, I32, I32, I32, I32], results: [], body: f };
}

// ---------------------------------------------------------------------------------------------------------------
// exp for softmax and SwiGLU, four lanes at a time (Cephes' expf: a range reduction by ln 2 and a degree-5
// polynomial, within 2 ulp of the float32 exp over the clamped range). Math.exp costs ~5 ns per call from JS; the
// attention softmax of a 1,000-token context calls it ~300k times per token.

/** inputs below this give 0 from the softmax (exp < 1e-38: below float32's normal range) */
export const EXP_MIN = -87.3;
const EXP_MAX = 88; // exp(88) = 1.65e38: finite, and 2^n stays a normal float

/** leaves exp(local x) as f32x4 on the stack; n and t are scratch v128 locals */
function emitExp(f: FnBuilder, x: number, n: number, t: number): void {
  f.get(x).v128F32x4(EXP_MIN).f32x4Max().v128F32x4(EXP_MAX).f32x4Min().set(x);
  f.get(x).v128F32x4(Math.LOG2E).f32x4Mul().f32x4Nearest().set(n);
  // r = x - n*ln2, ln2 in two parts so that n*C1 is exact
  f.get(x).get(n).v128F32x4(0.693359375).f32x4Mul().f32x4Sub().get(n).v128F32x4(-2.12194440e-4).f32x4Mul().f32x4Sub().set(x);
  f.v128F32x4(1.9875691500e-4).get(x).f32x4Mul().v128F32x4(1.3981999507e-3).f32x4Add();
  for (const c of [8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) f.get(x).f32x4Mul().v128F32x4(c).f32x4Add();
  f.set(t); // p(r)
  // y = p*r*r + r + 1
  f.get(t).get(x).f32x4Mul().get(x).f32x4Mul().get(x).f32x4Add().v128F32x4(1).f32x4Add();
  // * 2^n, built in the exponent bits
  f.get(n).i32x4TruncSatF32x4S().v128I32x4(127).i32x4Add().i32(23).i32x4Shl().f32x4Mul();
}

export const SOFTMAX_NAME = 'softmax_row';

/**
 * softmax_row(p, len4, scale): over the len4 floats at p (a multiple of 4; entries past the real length set to
 * -Infinity by the caller): p[i] *= scale, then p[i] = exp(p[i] - max) / sum, with entries below EXP_MIN after the
 * shift (the -Infinity padding included) exactly 0.
 */
function softmaxRow(): WasmFunction {
  const [p, len4, scale] = [0, 1, 2] as const;
  const f = new FnBuilder(3);
  const q = f.local(I32);
  const end = f.local(I32);
  const mx = f.local(F32);
  const sum = f.local(F32);
  const v = f.local(V128);
  const acc = f.local(V128);
  const n = f.local(V128);
  const t = f.local(V128);
  const sv = f.local(V128);
  f.get(p).get(len4).i32(2).i32Shl().i32Add().set(end);
  // pass 1: scale, and the max
  f.get(scale).f32x4Splat().set(sv);
  f.v128F32x4(-Infinity).set(acc);
  f.get(p).set(q);
  f.block().loop();
  f.get(q).get(end).i32LtU().i32Eqz().brIf(1);
  f.get(q).get(q).v128Load(0).get(sv).f32x4Mul().tee(v).v128Store(0);
  f.get(acc).get(v).f32x4Max().set(acc);
  f.addConst(q, 16).br(0);
  f.end().end();
  f.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Max().get(acc).f32x4ExtractLane(2).f32Max().get(acc).f32x4ExtractLane(3).f32Max().set(mx);
  // pass 2: exp(x - max), and the sum
  f.get(mx).f32x4Splat().set(sv);
  f.v128Zero().set(acc);
  f.get(p).set(q);
  f.block().loop();
  f.get(q).get(end).i32LtU().i32Eqz().brIf(1);
  f.get(q).v128Load(0).get(sv).f32x4Sub().set(v);
  f.get(q);
  f.get(v).v128F32x4(EXP_MIN).f32x4Ge(); // the lanes that stay; the rest come out exactly 0
  emitExp(f, v, n, t);
  f.v128And().tee(v).v128Store(0);
  f.get(acc).get(v).f32x4Add().set(acc);
  f.addConst(q, 16).br(0);
  f.end().end();
  f.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Add().get(acc).f32x4ExtractLane(2).f32Add().get(acc).f32x4ExtractLane(3).f32Add().set(sum);
  // pass 3: / sum
  f.f32(1).get(sum).f32Div().f32x4Splat().set(sv);
  f.get(p).set(q);
  f.block().loop();
  f.get(q).get(end).i32LtU().i32Eqz().brIf(1);
  f.get(q).get(q).v128Load(0).get(sv).f32x4Mul().v128Store(0);
  f.addConst(q, 16).br(0);
  f.end().end();
  return { name: SOFTMAX_NAME, params: [I32, I32, F32], results: [], body: f };
}

export const SWIGLU_NAME = 'swiglu';

/** swiglu(gate, up, groups): gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for i < 4*groups (byte offsets) */
function swigluKernel(): WasmFunction {
  const [gate, up, groups] = [0, 1, 2] as const;
  const f = new FnBuilder(3);
  const end = f.local(I32);
  const g = f.local(V128);
  const x = f.local(V128);
  const n = f.local(V128);
  const t = f.local(V128);
  f.get(gate).get(groups).i32(4).i32Shl().i32Add().set(end);
  f.block().loop();
  f.get(gate).get(end).i32LtU().i32Eqz().brIf(1);
  f.get(gate).v128Load(0).set(g);
  f.v128Zero().get(g).f32x4Sub().set(x);
  f.get(gate);
  f.get(g);
  emitExp(f, x, n, t);
  f.v128F32x4(1).f32x4Add().f32x4Div();
  f.get(up).v128Load(0).f32x4Mul().v128Store(0);
  f.addConst(gate, 16).addConst(up, 16).br(0);
  f.end().end();
  return { name: SWIGLU_NAME, params: [I32, I32, I32], results: [], body: f };
}

export const PV_NAME = 'pv_row';

/**
 * pv_row(out, p, v, n, headDim, vStride): out[d] = sum_{t < n} p[t] * v[t*vStride + d] for d < headDim (a multiple
 * of 16; vStride in floats): attention's P·V for one query row, reading the value rows as they lie in the cache
 * (sixteen dimensions per pass, one f32x4 accumulator per four), so no transposed copy of the values is needed.
 */
function pvRow(variant: KernelVariant): WasmFunction {
  const [out, p, v, n, headDim, vStride] = [0, 1, 2, 3, 4, 5] as const;
  const f = new FnBuilder(6);
  const vRowBytes = f.local(I32);
  const d = f.local(I32);
  const pp = f.local(I32);
  const pEnd = f.local(I32);
  const vp = f.local(I32);
  const acc = Array.from({ length: 4 }, () => f.local(V128));
  const ps = f.local(V128);
  f.get(vStride).i32(2).i32Shl().set(vRowBytes);
  f.get(p).get(n).i32(2).i32Shl().i32Add().set(pEnd);
  f.i32(0).set(d);
  f.block().loop(); // over blocks of 16 dimensions
  f.get(d).get(headDim).i32LtU().i32Eqz().brIf(1);
  for (const a of acc) f.v128Zero().set(a);
  f.get(p).set(pp);
  f.get(v).get(d).i32(2).i32Shl().i32Add().set(vp);
  f.block().loop(); // over positions
  f.get(pp).get(pEnd).i32LtU().i32Eqz().brIf(1);
  f.get(pp).v128Load32Splat(0).set(ps);
  acc.forEach((a, k) => emitMadd(f, variant, a, ps, () => f.get(vp).v128Load(k * 16)));
  f.addConst(pp, 4);
  f.get(vp).get(vRowBytes).i32Add().set(vp);
  f.br(0);
  f.end().end();
  acc.forEach((a, k) => f.get(out).get(d).i32(2).i32Shl().i32Add().get(a).v128Store(k * 16));
  f.addConst(d, 16).br(0);
  f.end().end();
  return { name: PV_NAME, params: [I32, I32, I32, I32, I32, I32], results: [], body: f };
}

/** the tile shapes the module exports: a multi-row tile for prefill and a one-row tile for decode */
export const MULTI_ROW_TILE: TileShape = { rows: 2, cols: 4 };
export const ONE_ROW_TILE: TileShape = { rows: 1, cols: 4 };
/**
 * decode's main tile: eight independent accumulators hide the latency of the add chain that four leave exposed;
 * each output's sum runs in the same order as in the other tiles, so the results are the same to the bit
 */
export const ONE_ROW_WIDE_TILE: TileShape = { rows: 1, cols: 8 };
/**
 * the tiles of 1–4 rows for matrices that come from DRAM (decode, option continuations): one weight row after the
 * other, a single sequential stream (the prefetchers serve it at about twice the rate of mm_1x8's eight interleaved
 * rows); same sums to the bit. STREAM_TILES[R - 1] takes R rows.
 */
export const STREAM_TILES: TileShape[] = [1, 2, 3, 4].map((rows) => ({ rows, cols: 1 }));

/** the fp32 tiles every module exports, in this order */
export const MATMUL_TILES: TileShape[] = [MULTI_ROW_TILE, ONE_ROW_TILE, ONE_ROW_WIDE_TILE, ...STREAM_TILES];

/**
 * The variant of the streaming kernels (mm_Rx1, mv_*_Rx1: 1–4 rows against weights from DRAM, one weight row at a
 * time): always multiply then add. Each output has ONE accumulator there, so its add chain sets the speed, and a fused
 * multiply-add's latency (4 cycles on Zen 3) is longer than an add's (3): measured, BF16 decode from DRAM 7.8 GB/s
 * with multiply-add against 6.4 GB/s fused. Batch tiles, which have 8 independent accumulators, are throughput-bound
 * and fuse. So with FMA on, a product of 1–4 rows on a big matrix is no longer the same bits as that row inside a
 * batch (it is within float rounding); fp32 and 16-bit weights still give the same bits as each other.
 */
export const STREAM_VARIANT: KernelVariant = MUL_ADD;

/**
 * The module of a thread's kernels over env.mem: the fp32 tiles, the 16-bit kernels, softmax, SwiGLU and P·V,
 * multiplying and adding as variant v says (the streaming kernels as STREAM_VARIANT).
 */
export function buildKernelModule(v: KernelVariant = MUL_ADD, extraTiles: TileShape[] = []): Uint8Array<ArrayBuffer> {
  const tiles = [...MATMUL_TILES, ...extraTiles];
  const kinds = ['F16', 'BF16', 'F16_FINITE'] as const;
  const halfStreams = Array.from({ length: HALF_STREAM_MAX_ROWS }, (_, i) => kinds.map((k) => halfStreamTile(k, i + 1, STREAM_VARIANT))).flat();
  const streaming = new Set(STREAM_TILES);
  const fns = [...tiles.map((t) => matmulTile(t.rows, t.cols, streaming.has(t) ? STREAM_VARIANT : v)), widenHalf('F16'), widenHalf('BF16'), ...kinds.map((k) => halfRowTile(k, v)), ...halfStreams, softmaxRow(), swigluKernel(), pvRow(v)];
  return encodeModule(fns, { ...KERNEL_MEMORY_PAGES, imported: true });
}

export const FMA_PROBE_NAME = 'madd';

/**
 * madd(a, b, c) = lane 0 of f32x4.relaxed_madd(splat a, splat b, splat c): validates only where relaxed SIMD is on,
 * and tells a fused multiply-add (one rounding) from a multiply then add
 */
export function buildFmaProbeModule(): Uint8Array<ArrayBuffer> {
  const f = new FnBuilder(3);
  f.get(0).f32x4Splat().get(1).f32x4Splat().get(2).f32x4Splat().f32x4RelaxedMadd().f32x4ExtractLane(0);
  return encodeModule([{ name: FMA_PROBE_NAME, params: [F32, F32, F32], results: [F32], body: f }], { ...KERNEL_MEMORY_PAGES, imported: true });
}

/**
 * The memory the module imports (env.mem): shared, so that views survive growth and so that threads can instantiate
 * the module over one memory (one copy of a model's weights for every thread).
 */
export const KERNEL_MEMORY_PAGES = { initial: 16, maximum: 65536 } as const;

export function newKernelMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ ...KERNEL_MEMORY_PAGES, shared: true });
}
