// Register-blocked plain-JS matmul: the fallback where WebAssembly SIMD cannot run (or inDim % 4 != 0).
// Each pass over i feeds 2 rows × 4 outputs (8 independent accumulators), so every x and w element loaded is used
// several times; remainders (odd row, outDim % 4) take the 1-row and 1-output paths.

/** out[r, o] = sum_i x[r, i] * w[o, i]   (x: [rows, inDim], w: [outDim, inDim], out: [rows, outDim]) */
export function matmulJs(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): void {
  let r = 0;
  for (; r + 2 <= rows; r += 2) rowPair(out, x, w, r, inDim, outDim);
  for (; r < rows; r++) oneRow(out, x, w, r, inDim, outDim);
}

function rowPair(out: Float32Array, x: Float32Array, w: Float32Array, r: number, inDim: number, outDim: number): void {
  const x0 = r * inDim;
  const x1 = x0 + inDim;
  let o = 0;
  for (; o + 4 <= outDim; o += 4) {
    const w0 = o * inDim;
    const w1 = w0 + inDim;
    const w2 = w1 + inDim;
    const w3 = w2 + inDim;
    let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
    for (let i = 0; i < inDim; i++) {
      const u = x[x0 + i]!;
      const v = x[x1 + i]!;
      const p = w[w0 + i]!;
      const q = w[w1 + i]!;
      const s = w[w2 + i]!;
      const t = w[w3 + i]!;
      a00 += u * p; a01 += u * q; a02 += u * s; a03 += u * t;
      a10 += v * p; a11 += v * q; a12 += v * s; a13 += v * t;
    }
    const o0 = r * outDim + o;
    const o1 = o0 + outDim;
    out[o0] = a00; out[o0 + 1] = a01; out[o0 + 2] = a02; out[o0 + 3] = a03;
    out[o1] = a10; out[o1 + 1] = a11; out[o1 + 2] = a12; out[o1 + 3] = a13;
  }
  for (; o < outDim; o++) {
    const wo = o * inDim;
    let a0 = 0, a1 = 0;
    for (let i = 0; i < inDim; i++) {
      const p = w[wo + i]!;
      a0 += x[x0 + i]! * p;
      a1 += x[x1 + i]! * p;
    }
    out[r * outDim + o] = a0;
    out[(r + 1) * outDim + o] = a1;
  }
}

function oneRow(out: Float32Array, x: Float32Array, w: Float32Array, r: number, inDim: number, outDim: number): void {
  const x0 = r * inDim;
  const oo = r * outDim;
  let o = 0;
  for (; o + 4 <= outDim; o += 4) {
    const w0 = o * inDim;
    const w1 = w0 + inDim;
    const w2 = w1 + inDim;
    const w3 = w2 + inDim;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let i = 0; i < inDim; i++) {
      const u = x[x0 + i]!;
      a0 += u * w[w0 + i]!; a1 += u * w[w1 + i]!; a2 += u * w[w2 + i]!; a3 += u * w[w3 + i]!;
    }
    out[oo + o] = a0; out[oo + o + 1] = a1; out[oo + o + 2] = a2; out[oo + o + 3] = a3;
  }
  for (; o < outDim; o++) {
    const wo = o * inDim;
    let a = 0;
    for (let i = 0; i < inDim; i++) a += x[x0 + i]! * w[wo + i]!;
    out[oo + o] = a;
  }
}
