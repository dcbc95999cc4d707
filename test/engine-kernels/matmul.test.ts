import { describe, expect, it } from 'vitest';
import { allocF32, isKernelResident, matmul, matmulJs, newKernelArena, releaseKernelScratch, wasmKernelsAvailable } from '../../src/core/engine/kernels';
import { configureKernels, matmulWasm } from '../../src/core/engine/kernels-wasm';

/** the reference: plain triple loop in float64 accumulation */
function matmulNaive(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
      out[r * outDim + o] = s;
    }
  }
}

/** deterministic pseudo-random numbers in [-1, 1) */
function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/** |got - want| within float32 rounding of a dot product of length inDim with entries in [-1, 1) */
function expectClose(got: Float32Array, want: Float32Array, inDim: number): void {
  expect(got.length).toBe(want.length);
  const tol = 1e-6 * Math.max(1, inDim) + 1e-6;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

// odd sizes on purpose: odd rows (the 1-row tail), outDim % 4 != 0 (the column tail), inDim % 4 != 0 (JS fallback)
const shapes: Array<[number, number, number]> = [
  [1, 4, 4], [1, 64, 64], [1, 64, 172], [1, 7, 5], [2, 8, 3], [3, 12, 9], [5, 20, 13], [7, 172, 65],
  [9, 33, 17], [4, 1, 1], [1, 1, 7], [11, 64, 2], [16, 96, 48], [13, 576, 31], [1, 576, 131], [1, 256, 256],
];

type Kernel = (out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number) => void;
const kernels: Array<[string, Kernel]> = [
  ['matmul', matmul],
  ['matmulJs', matmulJs],
];

describe('matmul kernels against the naive reference', () => {
  for (const [name, kernel] of kernels) {
    it(`${name} on odd shapes`, () => {
      for (const [rows, inDim, outDim] of shapes) {
        const x = random(rows * inDim, rows * 7 + inDim);
        const w = random(outDim * inDim, outDim * 13 + inDim);
        const want = new Float32Array(rows * outDim);
        matmulNaive(want, x, w, rows, inDim, outDim);
        const got = new Float32Array(rows * outDim).fill(Number.NaN);
        kernel(got, x, w, rows, inDim, outDim);
        expectClose(got, want, inDim);
      }
    });
  }

  // with fused multiply-add on, the streaming tiles (1–4 rows of a big matrix) still multiply then add
  // (STREAM_VARIANT): there the row alone is within rounding of the batch instead of the same bits
  for (const fma of ['off', 'on'] as const) {
    it(`gives a row the same sums, to the bit, alone or with a few others (decode tiles) as inside a batch (prefill tiles), --engine-fma ${fma}`, () => {
      configureKernels({ fma });
      try {
        // the last two are big enough for decode's one-stream tile (mm_1x1), one with outDim % 4 != 0
        for (const [inDim, outDim] of [[64, 172], [576, 31], [96, 48], [36, 13], [576, 131], [256, 260]] as const) {
          const streams = inDim * outDim >= 64 * 1024;
          const same = (got: Float32Array, want: Float32Array): void => {
            if (fma === 'on' && streams) expectClose(got, want, inDim);
            else expect(Array.from(got)).toEqual(Array.from(want));
          };
          const rows = 6;
          const x = random(rows * inDim, inDim);
          const w = random(outDim * inDim, outDim);
          const batch = new Float32Array(rows * outDim);
          matmul(batch, x, w, rows, inDim, outDim);
          for (let r = 0; r < rows; r++) {
            const one = new Float32Array(outDim);
            matmul(one, x.subarray(r * inDim, (r + 1) * inDim), w, 1, inDim, outDim);
            same(one, batch.subarray(r * outDim, (r + 1) * outDim));
          }
          // and 2–4 rows (the streaming tiles mm_Rx1 on the big shapes)
          for (const n of [2, 3, 4]) {
            const few = new Float32Array(n * outDim);
            matmul(few, x.subarray(inDim, (1 + n) * inDim), w, n, inDim, outDim);
            same(few, batch.subarray(outDim, (1 + n) * outDim));
          }
        }
      } finally {
        configureKernels({ fma: 'auto' });
      }
    });
  }

  it('runs the WebAssembly SIMD path in this runtime', () => {
    expect(wasmKernelsAvailable()).toBe(true);
    const out = new Float32Array(6);
    expect(matmulWasm(out, random(8, 1), random(12, 2), 2, 4, 3)).toBe(true);
    expect(matmulWasm(out, random(6, 1), random(9, 2), 2, 3, 3)).toBe(false); // inDim % 4 != 0: caller falls back
  });

  it('uses operands that live in the kernel memory in place, in every combination', () => {
    const [rows, inDim, outDim] = [5, 36, 11];
    const x = random(rows * inDim, 3);
    const w = random(outDim * inDim, 4);
    const want = new Float32Array(rows * outDim);
    matmulNaive(want, x, w, rows, inDim, outDim);
    for (let mask = 0; mask < 8; mask++) {
      const xs = mask & 1 ? allocF32(x.length) : new Float32Array(x.length);
      const ws = mask & 2 ? allocF32(w.length) : new Float32Array(w.length);
      const out = mask & 4 ? allocF32(want.length) : new Float32Array(want.length);
      xs.set(x);
      ws.set(w);
      expect(isKernelResident(xs)).toBe((mask & 1) !== 0);
      matmul(out, xs, ws, rows, inDim, outDim);
      expectClose(out, want, inDim);
    }
  });

  it('keeps arrays from allocF32 valid when the memory grows', () => {
    const early = allocF32(1000);
    early.set(random(1000, 9));
    const copy = Float32Array.from(early);
    allocF32(4_000_000); // forces memory.grow
    expect(isKernelResident(early)).toBe(true);
    expect(early.length).toBe(1000);
    expect(Array.from(early)).toEqual(Array.from(copy));
    const out = new Float32Array(10);
    const want = new Float32Array(10);
    const w = random(1000, 5);
    matmul(out, early, w, 1, 100, 10); // reads the early view, now inside a grown buffer
    matmulNaive(want, early, w, 1, 100, 10);
    expectClose(out, want, 100);
  });

  it('multiplies operands from different arenas, and arrays outlive the scratch arena they came from', () => {
    const [rows, inDim, outDim] = [3, 20, 7];
    const x = random(rows * inDim, 21);
    const w = random(outDim * inDim, 22);
    const want = new Float32Array(rows * outDim);
    matmulNaive(want, x, w, rows, inDim, outDim);
    const model = newKernelArena();
    const ws = model.allocF32(w.length);
    ws.set(w);
    const xs = allocF32(x.length);
    xs.set(x);
    expect(isKernelResident(ws)).toBe(true);
    expect(ws.buffer).not.toBe(xs.buffer); // a memory of the model's own, freed with it
    releaseKernelScratch();
    const fresh = allocF32(4);
    expect(fresh.buffer).not.toBe(xs.buffer); // the default arena starts afresh
    for (const out of [new Float32Array(want.length), model.allocF32(want.length), allocF32(want.length)]) {
      matmul(out, xs, ws, rows, inDim, outDim);
      expectClose(out, want, inDim);
    }
  });

  it('reads only the first rows*inDim of x and writes only the first rows*outDim of out', () => {
    const [rows, inDim, outDim] = [3, 8, 6];
    const x = random(rows * inDim + 16, 11);
    const w = random(outDim * inDim, 12);
    const out = new Float32Array(rows * outDim + 5).fill(42);
    const want = new Float32Array(rows * outDim);
    matmulNaive(want, x, w, rows, inDim, outDim);
    matmul(out, x, w, rows, inDim, outDim);
    expectClose(out.subarray(0, rows * outDim), want, inDim);
    expect(Array.from(out.subarray(rows * outDim))).toEqual([42, 42, 42, 42, 42]);
  });

  it('matches the reference at a prefill shape (SmolLM2-135M gate projection, 17 rows)', () => {
    const [rows, inDim, outDim] = [17, 576, 1536];
    const x = random(rows * inDim, 21);
    const w = random(outDim * inDim, 22);
    const want = new Float32Array(rows * outDim);
    matmulNaive(want, x, w, rows, inDim, outDim);
    const got = new Float32Array(rows * outDim);
    matmul(got, x, w, rows, inDim, outDim);
    expectClose(got, want, inDim);
  });
});
