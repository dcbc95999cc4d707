// Vectors as probe files store them, and the small vector arithmetic probes need. Browser-safe: no Node built-ins
// (atob/btoa are globals in Node ≥ 16 and in browsers), so analysis code and the viewer can score probes too.

/** A float vector in a probe file: base64 of little-endian float32 (compact: 4 bytes per number), or a JSON array. */
export type StoredVector = string | number[];

/** base64 of the little-endian float32 bytes of `v` (what sclab writes: ~5.3 characters per number). */
export function encodeF32(v: ArrayLike<number>): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  let bin = '';
  const CHUNK = 0x8000; // String.fromCharCode takes arguments: keep each call well under engines' limits
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

/** Decodes a stored vector; throws Error (the caller names the file and field) when the base64 is not float32 data. */
export function decodeVector(stored: StoredVector): Float32Array {
  if (Array.isArray(stored)) return Float32Array.from(stored);
  let bin: string;
  try {
    bin = atob(stored);
  } catch {
    throw new Error('not valid base64');
  }
  if (bin.length % 4 !== 0) throw new Error(`base64 holds ${bin.length} bytes, not a whole number of float32 values`);
  const view = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const out = new Float32Array(bin.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; null when either vector is all zeros (the angle is undefined). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return null;
  return dot(a, b) / (na * nb);
}

/** Numerically stable logistic function. */
export function sigmoid(m: number): number {
  if (m >= 0) return 1 / (1 + Math.exp(-m));
  const e = Math.exp(m);
  return e / (1 + e);
}
