// Fused multiply-add (--engine-fma): the kernels built with relaxed SIMD's f32x4.relaxed_madd, and the multiply-then-add
// kernels they replace (off, and the fallback where a runtime has no relaxed SIMD). Either variant must be within
// float rounding of a float64 reference, and each must keep the engine's invariant: every tile (batch, few rows,
// one row, fixed strides or not, 16-bit widened in registers or in blocks) gives an output the same bits.
import { afterAll, describe, expect, it } from 'vitest';
import { attentionSimd, HalfMatrix, matmul, newKernelArena, widenedF32 } from '../../src/core/engine/kernels';
import { attachKernelArena, configureKernels, describeKernels, relaxedSimdSupport, resolveFma } from '../../src/core/engine/kernels-wasm';
import { attention } from '../../src/core/engine/ops';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1;
}
const random = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, lcg(seed));

function naive(x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): Float64Array {
  const out = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) {
    let s = 0;
    for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
    out[r * outDim + o] = s;
  }
  return out;
}

function worst(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
  return d;
}

/** F16 bits of values in [-1, 1) */
function halfBits(n: number, seed: number): Uint16Array {
  const next = lcg(seed);
  return Uint16Array.from({ length: n }, () => {
    const r = (next() + 1) * 2 ** 30;
    return ((r >>> 20) & 0x8000) | ((1 + (r % 14)) << 10) | (r & 0x3ff);
  });
}

// prefill (2×4 tiles and the one-row remainder), decode (1×8 / 1×4 and the one-stream tile from 64K weights), a few
// rows (streaming tiles), odd outDim (the scalar column tail)
const shapes: Array<[number, number, number]> = [[7, 576, 131], [1, 576, 131], [3, 576, 260], [16, 96, 48], [1, 64, 172], [5, 20, 13], [2, 1536, 64]];

afterAll(() => configureKernels({ fma: 'auto' }));

describe('relaxed SIMD in this runtime', () => {
  it('is found (Node 20: behind a V8 flag, set at run time) and the probe tells a fused multiply-add apart', () => {
    const support = relaxedSimdSupport();
    expect(support).not.toBeNull();
    // x64 with FMA3 and ARM64 fuse; the probe's 2^-24 survives only one rounding
    expect(typeof support!.fused).toBe('boolean');
    expect(resolveFma('auto')).toEqual({ fma: true });
    expect(resolveFma('on')).toEqual({ fma: true });
    expect(resolveFma('off')).toEqual({ fma: false });
  });
});

for (const fma of ['on', 'off'] as const) {
  describe(`kernels with --engine-fma ${fma}`, () => {
    it('are within float rounding of a float64 reference: fp32, F16 and BF16 weights, attention', () => {
      configureKernels({ fma });
      const arena = newKernelArena();
      for (const [rows, inDim, outDim] of shapes) {
        const x = random(rows * inDim, rows * 3 + inDim);
        const w = random(outDim * inDim, outDim * 5 + inDim);
        const want = naive(x, w, rows, inDim, outDim);
        const resident = arena.allocF32(w.length);
        resident.set(w);
        for (const weights of [w, resident]) {
          const got = new Float32Array(rows * outDim);
          matmul(got, x, weights, rows, inDim, outDim);
          expect(worst(got, want), `${rows}×${inDim}×${outDim}`).toBeLessThan(2e-6 * inDim);
        }
        for (const dtype of ['F16', 'BF16'] as const) {
          const bits = dtype === 'F16' ? halfBits(w.length, inDim) : Uint16Array.from(w, (v) => new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16);
          const half = new HalfMatrix(dtype, arena.allocU16(bits.length));
          half.bits.set(bits);
          const wide = widenedF32(half);
          const got = new Float32Array(rows * outDim);
          matmul(got, x, half, rows, inDim, outDim);
          expect(worst(got, naive(x, wide, rows, inDim, outDim)), `${dtype} ${rows}×${inDim}×${outDim}`).toBeLessThan(2e-6 * inDim);
        }
      }
      // attention (QKᵀ tiles, softmax, P·V) against the scalar loop
      const [rows, start, nHeads, nKv, headDim] = [5, 11, 4, 2, 16];
      const q = random(rows * nHeads * headDim, 1);
      const keys = random((start + rows) * nKv * headDim, 2);
      const values = random((start + rows) * nKv * headDim, 3);
      const simd = new Float32Array(rows * nHeads * headDim);
      const scalar = new Float32Array(rows * nHeads * headDim);
      expect(attentionSimd(simd, q, keys, values, rows, start, nHeads, nKv, headDim)).toBe(true);
      attention(scalar, q, keys, values, rows, start, nHeads, nKv, headDim, new Float32Array(start + rows));
      expect(worst(simd, scalar)).toBeLessThan(1e-5);
    });

    it('give an output the same bits from every tile: batch, few rows, one row, 16-bit or widened', () => {
      configureKernels({ fma });
      for (const [inDim, outDim] of [[576, 131], [64, 172], [96, 48], [256, 260]] as const) {
        const rows = 6;
        const x = random(rows * inDim, inDim + 1);
        const w = random(outDim * inDim, outDim + 2);
        const batch = new Float32Array(rows * outDim);
        matmul(batch, x, w, rows, inDim, outDim);
        // the streaming tiles (1–4 rows of a matrix of 64K weights or more) never fuse: within rounding there
        const streams = fma === 'on' && inDim * outDim >= 64 * 1024;
        for (const n of [1, 2, 3, 4]) {
          const few = new Float32Array(n * outDim);
          matmul(few, x.subarray(inDim, (1 + n) * inDim), w, n, inDim, outDim);
          const want = batch.subarray(outDim, (1 + n) * outDim);
          if (streams) {
            expect(worst(few, want)).toBeLessThan(2e-6 * inDim);
            expect(few.some((v, i) => v !== want[i]), 'the streaming tile multiplies then adds').toBe(relaxedSimdSupport()!.fused);
          } else expect(Array.from(few), `${n} rows ${inDim}×${outDim}`).toEqual(Array.from(want));
        }
        // 16-bit weights widened in registers (1–4 rows) or in blocks (more) = their fp32 widening, to the bit
        const half = new HalfMatrix('F16', halfBits(w.length, inDim));
        const wide = widenedF32(half);
        for (const n of [1, 2, 3, 4, 6]) {
          const [a, b] = [new Float32Array(n * outDim), new Float32Array(n * outDim)];
          matmul(a, x, half, n, inDim, outDim);
          matmul(b, x, wide, n, inDim, outDim);
          expect(Array.from(a), `F16 ${n} rows ${inDim}×${outDim}`).toEqual(Array.from(b));
        }
      }
    });
  });
}

describe('choosing the kernels', () => {
  it('on and off differ in the last bits where the multiply-add is fused (so the fused kernels really run), and agree to rounding', () => {
    const [rows, inDim, outDim] = [6, 576, 64];
    const x = random(rows * inDim, 7);
    const w = random(outDim * inDim, 8);
    const run = (fma: 'on' | 'off'): Float32Array => {
      configureKernels({ fma });
      const out = new Float32Array(rows * outDim);
      matmul(out, x, w, rows, inDim, outDim);
      return out;
    };
    const [on, off] = [run('on'), run('off')];
    expect(worst(on, off)).toBeLessThan(1e-4);
    const differ = on.filter((v, i) => v !== off[i]).length;
    if (relaxedSimdSupport()!.fused) expect(differ).toBeGreaterThan(0);
    else expect(differ).toBe(0); // relaxed_madd as multiply then add: the same sums
    expect(Array.from(run('off'))).toEqual(Array.from(off)); // and each is deterministic
  });

  it('keeps an arena on the kernels it was made with: new arenas follow the setting, attached ones the memory', () => {
    configureKernels({ fma: 'on' });
    const fused = newKernelArena();
    configureKernels({ fma: 'off' });
    const plain = newKernelArena();
    expect(describeKernels(fused.memory)).toMatch(/^matmul kernels: WebAssembly SIMD128 with relaxed-SIMD multiply-add/);
    expect(describeKernels(plain.memory)).toBe('matmul kernels: WebAssembly SIMD128, multiply then add (--engine-fma off)');
    expect(describeKernels(null)).toBe(describeKernels(plain.memory)); // the scratch arena follows the setting
    // a thread attaching to the memory reads its variant from the memory, whatever its own setting (here: off)
    const other = attachKernelArena(fused.memory!);
    expect(describeKernels(other.memory)).toBe(describeKernels(fused.memory));
    const [rows, inDim, outDim] = [4, 64, 32];
    const x = random(rows * inDim, 9);
    const w = fused.allocF32(outDim * inDim);
    w.set(random(w.length, 10));
    const viaArena = new Float32Array(rows * outDim);
    matmul(viaArena, x, w, rows, inDim, outDim); // the weights' arena decides: fused
    configureKernels({ fma: 'on' });
    const fresh = newKernelArena().allocF32(w.length);
    fresh.set(w);
    const want = new Float32Array(rows * outDim);
    matmul(want, x, fresh, rows, inDim, outDim);
    expect(Array.from(viaArena)).toEqual(Array.from(want));
  });
});
