// 16-bit weights (F16/BF16 kept as loaded) must give exactly what their fp32 widening gives: the kernels widen
// every value exactly (halfToFloat for F16, a shift for BF16) and then run the same fp32 tiles.
import { describe, expect, it } from 'vitest';
import { HalfMatrix, isKernelResident, matmul, newKernelArena, widenedF32, weightRows } from '../../src/core/engine/kernels';
import { matmulHalfWasm } from '../../src/core/engine/kernels-wasm';
import { halfToFloat } from '../../src/core/engine/hf/dtype';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** finite 16-bit patterns of moderate magnitude (|x| < 4), subnormals and signed zeros included */
function randomBits(dtype: 'F16' | 'BF16', n: number, seed: number): Uint16Array {
  const next = lcg(seed);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    const sign = (r >>> 31) << 15;
    out[i] = dtype === 'F16'
      ? sign | (((r >>> 10) % 17) << 10) | (r & 0x3ff) // exponent 0 (subnormal) … 16
      : sign | ((112 + ((r >>> 7) % 17)) << 7) | (r & 0x7f); // exponent 2^-15 … 2^1, plus zeros below
  }
  return out;
}

function randomF32(n: number, seed: number): Float32Array {
  const next = lcg(seed);
  return Float32Array.from({ length: n }, () => next() / 2 ** 31 - 1);
}

const shapes: Array<[number, number, number]> = [
  [1, 4, 4], [1, 64, 300], [1, 576, 31], [1, 24, 6], [2, 8, 3], [3, 12, 9], [5, 20, 13], [7, 172, 65], [16, 96, 48], [13, 576, 31], [1, 7, 5], [2, 33, 17],
  // decode's one-stream kernel (mv_*_1x1) from 64K weights up, outDim % 4 != 0 included
  [1, 576, 133], [1, 512, 128],
  // 2–4 rows: the streaming kernels, widening in registers; 5–8: the block path again
  [2, 64, 36], [3, 576, 31], [4, 16, 8], [5, 96, 13], [6, 512, 128], [7, 576, 133], [8, 64, 20],
];

describe('16-bit weight matrices', () => {
  it('are kept in the arena\'s memory even when allocating them grows it (else every matmul copies them)', () => {
    const arena = newKernelArena();
    const small = arena.allocU16(8);
    const big = arena.allocU16(3_000_000); // past the initial memory: grows it
    const after = arena.allocU16(8);
    for (const a of [small, big, after]) expect(isKernelResident(a)).toBe(true);
    expect(big.length).toBe(3_000_000);
  });

  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}: matmul equals the matmul of the widened matrix, bit for bit, on odd shapes`, () => {
      for (const [rows, inDim, outDim] of shapes) {
        const plain = new HalfMatrix(dtype, randomBits(dtype, outDim * inDim, outDim * 31 + inDim));
        const arena = newKernelArena();
        const resident = new HalfMatrix(dtype, arena.allocU16(outDim * inDim));
        resident.bits.set(plain.bits);
        const x = randomF32(rows * inDim, rows + inDim);
        const want = new Float32Array(rows * outDim);
        matmul(want, x, widenedF32(plain), rows, inDim, outDim);
        for (const w of [plain, resident]) {
          const got = new Float32Array(rows * outDim).fill(Number.NaN);
          matmul(got, x, w, rows, inDim, outDim);
          expect(Array.from(got), `${rows}×${inDim}×${outDim}`).toEqual(Array.from(want));
        }
      }
    });
  }

  it('F16: every one of the 65,536 bit patterns widens to halfToFloat (subnormals, ±0, ±inf, NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = widenedF32(new HalfMatrix('F16', all));
    for (const h of [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00, 0x8000, 0xfc00, 0x8001]) expect(wide[h]).toBe(halfToFloat(h));
    // through both SIMD widenings: x = e_j picks column j of each row, exactly (1 * w + 0 * …)
    for (const inDim of [4, 8]) {
      const outDim = 65536 / inDim;
      for (let j = 0; j < inDim; j++) {
        const x = new Float32Array(inDim);
        x[j] = 1;
        const got = new Float32Array(outDim);
        expect(matmulHalfWasm(got, x, new HalfMatrix('F16', all), 1, inDim, outDim)).toBe(true);
        const want = new Float32Array(outDim);
        matmul(want, x, wide, 1, inDim, outDim);
        expect(Array.from(got)).toEqual(Array.from(want));
        // the whole matrix is big enough for the one-stream kernel; in quarters it goes through the four-row one
        const quarter = outDim / 4;
        for (let q = 0; q < 4; q++) {
          const part = new Float32Array(quarter);
          expect(matmulHalfWasm(part, x, new HalfMatrix('F16', all.subarray(q * quarter * inDim, (q + 1) * quarter * inDim)), 1, inDim, quarter)).toBe(true);
          expect(Array.from(part)).toEqual(Array.from(want.subarray(q * quarter, (q + 1) * quarter)));
        }
        // and for finite values that is halfToFloat itself (+0 for -0: 1 * -0 + 0 * … is +0)
        const exact = Array.from({ length: outDim }, (_, o) => halfToFloat(all[o * inDim + j]!) + 0);
        expect(Array.from(got).filter((_, o) => Number.isFinite(exact[o]))).toEqual(exact.filter((v) => Number.isFinite(v)));
      }
    }
  });

  it('F16 without infinities or NaN: all 63,488 finite patterns through the shorter one-row widening', () => {
    const finite = new Uint16Array(65536 - 2048);
    let n = 0;
    for (let h = 0; h < 65536; h++) if ((h & 0x7c00) !== 0x7c00) finite[n++] = h;
    const w = new HalfMatrix('F16', finite);
    expect(w.finite).toBe(true);
    expect(new HalfMatrix('F16', Uint16Array.of(1, 2, 0xfc00, 3)).finite).toBe(false);
    const wide = widenedF32(w);
    const doubled = new HalfMatrix('F16', new Uint16Array(2 * finite.length));
    doubled.bits.set(finite);
    doubled.bits.set(finite, finite.length);
    for (let j = 0; j < 8; j++) {
      const x = new Float32Array(8);
      x[j] = -2; // also checks the sign comes through the multiply
      const got = new Float32Array(finite.length / 8);
      const want = new Float32Array(finite.length / 8);
      matmul(got, x, w, 1, 8, got.length);
      matmul(want, x, wide, 1, 8, want.length);
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(Array.from(got)).toEqual(Array.from(want, (_, o) => -2 * halfToFloat(finite[o * 8 + j]!) + 0));
      // twice over: big enough for the one-stream kernel
      const twice = new Float32Array(2 * got.length);
      matmul(twice, x, doubled, 1, 8, twice.length);
      expect(Array.from(twice)).toEqual([...got, ...got]);
    }
  });

  it('takes embedding rows out of a 16-bit matrix', () => {
    const bits = randomBits('BF16', 6 * 8, 5);
    const w = new HalfMatrix('BF16', bits);
    const dst = new Float32Array(20).fill(-7);
    weightRows(w, 2, 2, 8, dst, 3);
    expect(Array.from(dst.subarray(3, 19))).toEqual(Array.from(widenedF32(w).subarray(16, 32)));
    expect(dst[2]).toBe(-7);
    expect(dst[19]).toBe(-7);
  });
});
