// Widening of the 16-bit float formats Hugging Face checkpoints store to the fp32 the engine computes in.

/** Bytes per element of every dtype a safetensors header may name (used to validate byte ranges). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The dtypes the loader widens to Float32Array. */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];

export function isFloatDtype(d: string): d is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

/** bf16 is the top half of an fp32: widening is a 16-bit shift, exact for every value. */
export function widenBf16(src: Uint16Array, dst: Float32Array, dstOffset: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOffset * 4, src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
}

let f16Table: Float32Array | undefined;

/** All 65,536 half-precision values as fp32, built once (256 KiB): widening becomes one lookup per element. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  f16Table = table;
  return table;
}

/** IEEE 754 binary16 → number, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function widenF16(src: Uint16Array, dst: Float32Array, dstOffset: number): void {
  const table = halfTable();
  for (let i = 0; i < src.length; i++) dst[dstOffset + i] = table[src[i]!]!;
}
