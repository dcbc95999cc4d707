import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { halfToFloat } from '../../src/core/engine/hf/dtype';
import { SafetensorsSet, readSafetensorsHeader } from '../../src/core/engine/hf/safetensors';
import { SclabError } from '../../src/core/model/errors';
import { bf16Bits, f16Bits, gridRandom, safetensorsBytes, tmpDir } from './fixtures';

function header(obj: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(obj));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json]);
}

async function modelError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SclabError);
  expect((e as SclabError).code).toBe('model');
  return (e as Error).message;
}

describe('binary16 widening', () => {
  it('decodes the reference bit patterns', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325195, 8);
  });

  it('round-trips every value the test encoder produces', () => {
    for (const x of [0.5, -0.75, 1 / 1024, 2 ** -20, 1000, -65504]) expect(halfToFloat(f16Bits(x))).toBe(x);
  });
});

describe('safetensors reading', () => {
  const values = gridRandom(6 * 5, 7);
  const odd = Float32Array.from([1, -2, 0.5, 2 ** -20, -0, 65504]); // 2^-20 is an f16 subnormal

  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`widens ${dtype} exactly for representable values`, async () => {
      const dir = tmpDir('st');
      writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes([
        { name: 'a', shape: [6, 5], dtype, data: values },
        { name: 'b', shape: [6], dtype, data: dtype === 'BF16' ? Float32Array.from([1, -2, 0.5, 2 ** -9, -0, 65536]) : odd },
      ]));
      const set = await SafetensorsSet.open(dir);
      try {
        expect(set.info('a')).toMatchObject({ dtype, shape: [6, 5] });
        expect(Array.from(await set.read('a'))).toEqual(Array.from(values));
        const b = await set.read('b');
        expect(b).toBeInstanceOf(Float32Array);
        expect(Array.from(b)).toEqual(dtype === 'BF16' ? [1, -2, 0.5, 2 ** -9, -0, 65536] : Array.from(odd));
      } finally {
        await set.close();
      }
    });
  }

  it('reads a sharded checkpoint through its index', async () => {
    const dir = tmpDir('shard');
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), safetensorsBytes([{ name: 'x', shape: [4], dtype: 'F32', data: Float32Array.from([1, 2, 3, 4]) }]));
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), safetensorsBytes([{ name: 'y', shape: [2], dtype: 'BF16', data: Float32Array.from([5, 6]) }]));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' } }));
    const set = await SafetensorsSet.open(dir);
    expect(set.files.map((f) => f.slice(dir.length + 1))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(Array.from(await set.read('y'))).toEqual([5, 6]);
    expect(Array.from(await set.read('x'))).toEqual([1, 2, 3, 4]);
    await set.close();
  });

  it('rejects an index that puts a tensor in the wrong shard', async () => {
    const dir = tmpDir('shardbad');
    writeFileSync(join(dir, 'a.safetensors'), safetensorsBytes([{ name: 'x', shape: [1], dtype: 'F32', data: Float32Array.from([1]) }]));
    writeFileSync(join(dir, 'b.safetensors'), safetensorsBytes([{ name: 'y', shape: [1], dtype: 'F32', data: Float32Array.from([1]) }]));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'b.safetensors', y: 'b.safetensors' } }));
    expect(await modelError(SafetensorsSet.open(dir))).toMatch(/model\.safetensors\.index\.json.*"x" in b\.safetensors, but that file does not hold it/);
  });

  it('names file and tensor when data_offsets disagree with the shape', async () => {
    const dir = tmpDir('bad');
    const f = join(dir, 'model.safetensors');
    writeFileSync(f, Buffer.concat([header({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }), Buffer.alloc(24)]));
    const msg = await modelError(readSafetensorsHeader(f));
    expect(msg).toContain(f);
    expect(msg).toContain('tensor "w"');
    expect(msg).toMatch(/needs 24 bytes/);
  });

  it('rejects truncated data, overlapping tensors, bad dtypes and absurd header lengths', async () => {
    const dir = tmpDir('bad2');
    const f = join(dir, 'model.safetensors');
    writeFileSync(f, Buffer.concat([header({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), Buffer.alloc(10)]));
    expect(await modelError(readSafetensorsHeader(f))).toMatch(/truncated/);
    writeFileSync(f, Buffer.concat([header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), Buffer.alloc(12)]));
    expect(await modelError(readSafetensorsHeader(f))).toMatch(/"a" and "b" overlap/);
    writeFileSync(f, Buffer.concat([header({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }), Buffer.alloc(2)]));
    expect(await modelError(readSafetensorsHeader(f))).toMatch(/unknown dtype "Q4"/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1n << 40n);
    writeFileSync(f, huge);
    expect(await modelError(readSafetensorsHeader(f))).toMatch(/100 MB/);
    writeFileSync(f, Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{nope')]));
    expect(await modelError(readSafetensorsHeader(f))).toMatch(/not valid JSON/);
  });

  it('refuses non-float tensors when they are read, naming them', async () => {
    const dir = tmpDir('int');
    const len = Buffer.from(JSON.stringify({ q: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }));
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(len.length));
    writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([n, len, Buffer.alloc(4)]));
    const set = await SafetensorsSet.open(dir);
    expect(await modelError(set.read('q'))).toMatch(/"q" has dtype I8/);
    await set.close();
  });

  it('says what it found when a folder has no safetensors', async () => {
    const dir = tmpDir('none');
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    expect(await modelError(SafetensorsSet.open(dir))).toMatch(/no \*\.safetensors.*pytorch_model\.bin/);
  });

  it('bf16 encoder in the fixtures agrees with the float32 top half', () => {
    expect(bf16Bits(1)).toBe(0x3f80);
    expect(bf16Bits(-2)).toBe(0xc000);
  });
});
