// The SIMD exp behind the attention softmax and SwiGLU (kernels-wasm-code.ts): within float rounding of Math.exp.
import { describe, expect, it } from 'vitest';
import { allocF32, swiglu, swigluJs } from '../../src/core/engine/kernels';
import { scratchF32, wasmState } from '../../src/core/engine/kernels-wasm';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('the SIMD exp kernels', () => {
  it('softmax_row: scale, max, exp and normalise within 2e-6 relative of Math.exp; padding gives exactly 0', () => {
    const s = wasmState()!;
    const next = lcg(3);
    for (const len of [1, 3, 4, 5, 17, 64, 301]) {
      const len4 = Math.ceil(len / 4) * 4;
      // scores spread over [-60, 20], a few far below the max (exp underflows) and one very large one
      const scores = Array.from({ length: len }, (_, i) => (i === 7 ? 400 : i % 11 === 5 ? -1e4 : next() * 80 - 60));
      const scale = 0.125;
      const p = scratchF32(s, 'test.softmax', len4);
      const heap = s.heap;
      heap.set(scores, p >> 2);
      heap.fill(-Infinity, (p >> 2) + len, (p >> 2) + len4);
      s.softmax(p, len4, scale);
      const max = Math.max(...scores.map((x) => Math.fround(x * scale)));
      const e = scores.map((x) => Math.exp(Math.fround(x * scale) - max));
      const sum = e.reduce((a, b) => a + b, 0);
      const got = Array.from(s.heap.subarray(p >> 2, (p >> 2) + len4));
      for (let i = 0; i < len; i++) {
        const want = e[i]! / sum;
        expect(Math.abs(got[i]! - want), `len ${len}, entry ${i}`).toBeLessThanOrEqual(2e-6 * want + 1e-38);
      }
      expect(got.slice(len)).toEqual(new Array(len4 - len).fill(0));
      expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('swiglu: within 2e-6 relative of the Math.exp loop, over ±100 and zeros, any length, in and out of kernel memory', () => {
    const next = lcg(9);
    for (const n of [1, 3, 4, 7, 64, 1539]) {
      const gate = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : i % 17 === 0 ? 100 : i % 19 === 0 ? -100 : next() * 24 - 12));
      const up = Float32Array.from({ length: n }, () => next() * 4 - 2);
      const want = Float32Array.from(gate);
      swigluJs(want, up, n);
      for (const resident of [false, true]) {
        const g = resident ? allocF32(n) : new Float32Array(n);
        g.set(gate);
        swiglu(g, up, n);
        for (let i = 0; i < n; i++) expect(Math.abs(g[i]! - want[i]!), `n ${n}, i ${i}`).toBeLessThanOrEqual(2e-6 * Math.abs(want[i]!) + 1e-30);
      }
    }
  });
});
