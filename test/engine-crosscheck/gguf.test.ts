import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORIES as MODEL_DIR } from '../support/data';
import { encodeGguf, llama2cToGguf, readLlama2cVocab } from '../support/gguf';

/** a minimal GGUF reader for the header, KV keys and tensor infos, written from the spec independently of the writer */
function readHeader(buf: Buffer): { version: number; keys: string[]; tensors: Array<{ name: string; dims: number[]; type: number; offset: number }>; dataStart: number } {
  let p = 0;
  const u32 = (): number => { const v = buf.readUInt32LE(p); p += 4; return v; };
  const u64 = (): number => { const v = Number(buf.readBigUInt64LE(p)); p += 8; return v; };
  const str = (): string => { const n = u64(); const s = buf.subarray(p, p + n).toString('utf8'); p += n; return s; };
  const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (type: number): void => {
    if (type === 8) str();
    else if (type === 9) { const et = u32(); const n = u64(); for (let i = 0; i < n; i++) skip(et); }
    else p += sizes[type]!;
  };
  expect(buf.subarray(0, 4).toString('ascii')).toBe('GGUF');
  p = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const keys: string[] = [];
  for (let i = 0; i < nKv; i++) { keys.push(str()); skip(u32()); }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims = Array.from({ length: nd }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { version, keys, tensors, dataStart: Math.ceil(p / 32) * 32 };
}

describe('GGUF writer', () => {
  it('writes header, KVs, reversed dims and 32-aligned F32 data', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([7, 8, 9]);
    const buf = encodeGguf([['general.architecture', { type: 'string', value: 'llama' }]], [
      { name: 'a', shape: [2, 3], data: a },
      { name: 'b', shape: [3], data: b },
    ]);
    const h = readHeader(buf);
    expect(h.version).toBe(3);
    expect(h.keys).toEqual(['general.architecture']);
    expect(h.tensors).toEqual([
      { name: 'a', dims: [3, 2], type: 0, offset: 0 },
      { name: 'b', dims: [3], type: 0, offset: 32 },
    ]);
    const at = (off: number, n: number): number[] => Array.from({ length: n }, (_, i) => buf.readFloatLE(h.dataStart + off + 4 * i));
    expect(at(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(at(32, 3)).toEqual([7, 8, 9]);
  });

  it('rejects a tensor whose data does not match its shape', () => {
    expect(() => encodeGguf([], [{ name: 'x', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/x: shape 2x2/);
  });

  it('converts stories260K with every llama tensor and the SentencePiece vocabulary', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-gguf-'));
    try {
      const out = path.join(dir, 'm.gguf');
      llama2cToGguf(path.join(MODEL_DIR, 'stories260K.bin'), path.join(MODEL_DIR, 'tok512.bin'), out);
      const h = readHeader(readFileSync(out));
      expect(h.keys).toContain('llama.attention.head_count_kv');
      expect(h.tensors).toHaveLength(1 + 5 * 9 + 1); // tied: no output.weight
      expect(h.tensors.find((t) => t.name === 'token_embd.weight')?.dims).toEqual([64, 512]);
      expect(h.tensors.find((t) => t.name === 'blk.4.ffn_down.weight')?.dims).toEqual([172, 64]);
      expect(h.tensors.find((t) => t.name === 'blk.0.attn_k.weight')?.dims).toEqual([64, 32]);
      const v = readLlama2cVocab(path.join(MODEL_DIR, 'tok512.bin'), 512);
      expect(v.pieces.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
      expect(v.types.slice(0, 4)).toEqual([2, 3, 3, 6]);
      expect(v.pieces[259]).toBe('\u2581t');
      expect(v.types[259]).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
