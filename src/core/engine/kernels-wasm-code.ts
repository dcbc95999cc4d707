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
import { encodeModule, FnBuilder, I32, V128, type WasmFunction } from './kernels-wasm-asm';

export interface TileShape {
  rows: number;
  cols: number;
}

export function matmulTileName(t: TileShape): string {
  return `mm_${t.rows}x${t.cols}`;
}

function matmulTile(R: number, C: number): WasmFunction {
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
    for (let r = 0; r < R; r++) {
      const a = acc[r * C + c]!;
      f.get(a).get(xv[r]!).get(wv).f32x4Mul().f32x4Add().set(a);
    }
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

/** the tile shapes the module exports: a multi-row tile for prefill and a one-row tile for decode */
export const MULTI_ROW_TILE: TileShape = { rows: 2, cols: 4 };
export const ONE_ROW_TILE: TileShape = { rows: 1, cols: 4 };

export function buildKernelModule(extraTiles: TileShape[] = []): Uint8Array<ArrayBuffer> {
  const tiles = [MULTI_ROW_TILE, ONE_ROW_TILE, ...extraTiles];
  return encodeModule(tiles.map((t) => matmulTile(t.rows, t.cols)), { initial: 16, maximum: 65536 });
}
