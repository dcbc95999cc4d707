import { describe, expect, it } from 'vitest';
import { attentionSimd } from '../../src/core/engine/kernels';

/** the reference: per query row and head, causal softmax(q·k / sqrt(d)) · v in float64 */
function attentionNaive(q: Float32Array, keys: Float32Array, values: Float32Array, rows: number, startPos: number, nHeads: number, nKvHeads: number, hd: number): Float64Array {
  const qDim = nHeads * hd;
  const kvDim = nKvHeads * hd;
  const out = new Float64Array(rows * qDim);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < nHeads; h++) {
      const g = Math.floor(h / (nHeads / nKvHeads));
      const n = startPos + r + 1;
      const s: number[] = [];
      for (let t = 0; t < n; t++) {
        let d = 0;
        for (let i = 0; i < hd; i++) d += q[r * qDim + h * hd + i]! * keys[t * kvDim + g * hd + i]!;
        s.push(d / Math.sqrt(hd));
      }
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let t = 0; t < n; t++) for (let i = 0; i < hd; i++) out[r * qDim + h * hd + i]! += (e[t]! / z) * values[t * kvDim + g * hd + i]!;
    }
  }
  return out;
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 31 - 1) * 2;
  }
  return a;
}

describe('attentionSimd against the naive reference', () => {
  // [rows, startPos, nHeads, nKvHeads, headDim]: odd positions (score padding), GQA groups 1/2/3, a decode row
  const cases: Array<[number, number, number, number, number]> = [
    [1, 0, 2, 2, 4], [3, 0, 4, 2, 8], [7, 5, 9, 3, 64], [1, 37, 8, 4, 8], [2, 1, 6, 1, 12], [13, 0, 3, 3, 16], [5, 250, 8, 4, 8],
    // fewer than 4 rows with heads of a multiple of 16: values read in place (pv_row), no transposed copy
    [1, 0, 2, 2, 16], [1, 37, 9, 3, 64], [2, 5, 4, 2, 32], [3, 300, 6, 2, 64],
  ];
  for (const [rows, startPos, nHeads, nKvHeads, hd] of cases) {
    it(`rows ${rows}, start ${startPos}, ${nHeads}/${nKvHeads} heads of ${hd}`, () => {
      const n = startPos + rows;
      const q = random(rows * nHeads * hd, rows + hd);
      const keys = random((n + 3) * nKvHeads * hd, 2 * n); // a cache longer than the positions in use
      const values = random((n + 3) * nKvHeads * hd, 3 * n);
      const want = attentionNaive(q, keys, values, rows, startPos, nHeads, nKvHeads, hd);
      const out = new Float32Array(rows * nHeads * hd + 2).fill(7);
      expect(attentionSimd(out, q, keys, values, rows, startPos, nHeads, nKvHeads, hd)).toBe(true);
      let worst = 0;
      want.forEach((w, i) => (worst = Math.max(worst, Math.abs(out[i]! - w))));
      expect(worst).toBeLessThan(1e-4 * Math.sqrt(hd));
      expect(Array.from(out.subarray(want.length))).toEqual([7, 7]);
    });
  }

  it('declines head sizes that are not a multiple of 4', () => {
    const out = new Float32Array(6);
    expect(attentionSimd(out, new Float32Array(6), new Float32Array(6), new Float32Array(6), 1, 0, 2, 2, 3)).toBe(false);
  });
});
