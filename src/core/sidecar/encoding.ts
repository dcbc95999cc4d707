// Float vectors on the wire. JSON arrays are readable and ~10 bytes per float; "base64-f32" is base64 of the raw
// little-endian float32 bytes (5.33 bytes per float) and bit-exact.
import { SclabError } from '../model/errors';
import type { WireEncoding } from './protocol';

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new SclabError('unsupported', 'base64-f32 needs a little-endian machine');
}

export function encodeVector(v: Float32Array, encoding: WireEncoding): number[] | string {
  if (encoding === 'json') return Array.from(v);
  assertLittleEndian();
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** `what` names the vector in errors (e.g. "layers[3]") */
export function decodeVector(raw: number[] | string, what: string): Float32Array {
  if (typeof raw !== 'string') return Float32Array.from(raw);
  assertLittleEndian();
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new SclabError('malformed_response', `${what}: base64-f32 data of ${bytes.length} bytes is not a whole number of float32 values`);
  }
  // copy into an aligned buffer: Buffer.from may hand back a slice of a shared pool at any offset
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
