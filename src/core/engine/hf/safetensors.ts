// Reader for safetensors files (single file or sharded with model.safetensors.index.json).
// Layout: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw
// little-endian tensor bytes. Tensors are read one at a time through a file handle, so a multi-GB checkpoint
// never has to sit in memory as one buffer.
import { open, readFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SclabError } from '../../model/errors';
import { DTYPE_BYTES, isFloatDtype, widenBf16, widenF16 } from './dtype';
import { allocF32, HalfMatrix, type KernelArena, type WeightMatrix } from '../kernels';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** absolute byte offsets in the file */
  begin: number;
  end: number;
  file: string;
}

export interface SafetensorsHeader {
  file: string;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length would allocate GBs). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Elements converted per read: bounds the temporary buffer for 16-bit tensors. */
const CHUNK_ELEMENTS = 8 * 1024 * 1024;

function fail(file: string, what: string): never {
  throw new SclabError('model', `${file}: ${what}`);
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Validates a header's JSON against the file size: every tensor's range lies in the data area, matches its
 * dtype and shape, and no two ranges overlap. */
export function parseSafetensorsHeader(headerJson: string, headerLength: number, fileSize: number, file: string): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(headerJson);
  } catch (e) {
    fail(file, `the safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 'the safetensors header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const where = `tensor "${name}"`;
    if (value === null || typeof value !== 'object') fail(file, `${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) fail(file, `${where}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, `${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [b, e] = offsets as [number, number];
    const expected = numel(shape as number[]) * DTYPE_BYTES[dtype]!;
    if (e < b) fail(file, `${where}: data_offsets [${b}, ${e}] end before they begin`);
    if (e - b !== expected) fail(file, `${where}: ${dtype} shape [${(shape as number[]).join(', ')}] needs ${expected} bytes but data_offsets [${b}, ${e}] span ${e - b}`);
    if (e > dataLength) fail(file, `${where}: data_offsets end at ${e} but the file holds only ${dataLength} bytes of tensor data (truncated download?)`);
    tensors.set(name, { name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e, file });
  }
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((x, y) => x.begin - y.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) fail(file, `tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap`);
  }
  return { file, tensors, metadata };
}

async function readFully(fh: FileHandle, into: Uint8Array, position: number, file: string, name: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) fail(file, `tensor "${name}": file ended while reading (truncated?)`);
    done += bytesRead;
  }
}

export async function readSafetensorsHeader(file: string, fh?: FileHandle): Promise<SafetensorsHeader> {
  const handle = fh ?? (await openOrFail(file));
  try {
    const { size } = await handle.stat();
    if (size < 8) fail(file, `is ${size} bytes long: too short for a safetensors file`);
    const lenBytes = new Uint8Array(8);
    await readFully(handle, lenBytes, 0, file, '(header length)');
    const len = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (len > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${len} exceeds the 100 MB limit (not a safetensors file?)`);
    const headerLength = Number(len);
    if (8 + headerLength > size) fail(file, `header length ${headerLength} runs past the end of the ${size}-byte file`);
    const headerBytes = new Uint8Array(headerLength);
    await readFully(handle, headerBytes, 8, file, '(header)');
    return parseSafetensorsHeader(new TextDecoder().decode(headerBytes), headerLength, size, file);
  } finally {
    if (!fh) await handle.close();
  }
}

async function openOrFail(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (e) {
    throw new SclabError('model', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads one tensor and widens it to fp32. */
export async function readTensorF32(fh: FileHandle, info: TensorInfo, arena?: KernelArena): Promise<Float32Array> {
  if (!isFloatDtype(info.dtype)) {
    fail(info.file, `tensor "${info.name}" has dtype ${info.dtype}; the engine reads F32, F16 and BF16 (quantized checkpoints are not supported)`);
  }
  const n = numel(info.shape);
  // in the matmul kernels' memory, so products read the weights in place instead of copying them in every call
  const out = arena ? arena.allocF32(n) : allocF32(n);
  if (info.dtype === 'F32') {
    await readFully(fh, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.begin, info.file, info.name);
    return out;
  }
  const chunk = new Uint16Array(Math.min(n, CHUNK_ELEMENTS));
  for (let at = 0; at < n; at += CHUNK_ELEMENTS) {
    const count = Math.min(CHUNK_ELEMENTS, n - at);
    const view = count === chunk.length ? chunk : chunk.subarray(0, count);
    await readFully(fh, new Uint8Array(view.buffer, 0, count * 2), info.begin + at * 2, info.file, info.name);
    if (info.dtype === 'BF16') widenBf16(view, out, at);
    else widenF16(view, out, at);
  }
  return out;
}

/**
 * Reads one weight matrix: F16/BF16 stay 16-bit (a HalfMatrix in the arena, widened by the matmul kernels) where
 * the arena's kernels widen them; otherwise (F32, or no SIMD kernels) as readTensorF32.
 */
export async function readTensorMatrix(fh: FileHandle, info: TensorInfo, arena: KernelArena): Promise<WeightMatrix> {
  if ((info.dtype !== 'F16' && info.dtype !== 'BF16') || !arena.widensHalf) return readTensorF32(fh, info, arena);
  const bits = arena.allocU16(numel(info.shape));
  await readFully(fh, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength), info.begin, info.file, info.name);
  return new HalfMatrix(info.dtype, bits);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** All tensors of a model folder, possibly spread over several shard files. */
export class SafetensorsSet {
  private readonly handles = new Map<string, FileHandle>();

  private constructor(
    /** absolute paths of the weight files, in a stable order */
    readonly files: string[],
    private readonly tensors: Map<string, TensorInfo>,
  ) {}

  static async open(dir: string): Promise<SafetensorsSet> {
    if (!LITTLE_ENDIAN) throw new SclabError('model', 'safetensors reading needs a little-endian machine');
    const files = await weightFiles(dir);
    const tensors = new Map<string, TensorInfo>();
    for (const file of files.files) {
      const header = await readSafetensorsHeader(file);
      for (const [name, info] of header.tensors) {
        const prior = tensors.get(name);
        if (prior) fail(file, `tensor "${name}" also appears in ${basename(prior.file)}`);
        tensors.set(name, info);
      }
    }
    if (files.weightMap) {
      for (const [name, shard] of Object.entries(files.weightMap)) {
        const info = tensors.get(name);
        if (!info) fail(files.indexFile!, `weight_map names tensor "${name}" in ${shard}, but that file does not hold it`);
        if (basename(info.file) !== basename(shard)) fail(files.indexFile!, `weight_map puts "${name}" in ${shard}, but it is in ${basename(info.file)}`);
      }
    }
    return new SafetensorsSet(files.files, tensors);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo | undefined {
    return this.tensors.get(name);
  }

  /** the tensor widened to fp32, in arena (a model's own kernel memory) when given */
  async read(name: string, arena?: KernelArena): Promise<Float32Array> {
    const info = this.tensors.get(name);
    if (!info) throw new SclabError('model', `tensor "${name}" is missing from ${this.files.map((f) => basename(f)).join(', ')}`);
    return readTensorF32(await this.handle(info.file), info, arena);
  }

  /** a weight matrix in arena: 16-bit kept 16-bit where the kernels widen it (see readTensorMatrix) */
  async readMatrix(name: string, arena: KernelArena): Promise<WeightMatrix> {
    const info = this.tensors.get(name);
    if (!info) throw new SclabError('model', `tensor "${name}" is missing from ${this.files.map((f) => basename(f)).join(', ')}`);
    return readTensorMatrix(await this.handle(info.file), info, arena);
  }

  private async handle(file: string): Promise<FileHandle> {
    let fh = this.handles.get(file);
    if (!fh) {
      fh = await openOrFail(file);
      this.handles.set(file, fh);
    }
    return fh;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((h) => h.close()));
  }
}

interface WeightFiles {
  files: string[];
  indexFile?: string;
  weightMap?: Record<string, string>;
}

/** Which files hold the weights: the index's shards, else model.safetensors, else every *.safetensors. */
async function weightFiles(dir: string): Promise<WeightFiles> {
  const indexFile = join(dir, 'model.safetensors.index.json');
  const hasIndex = await stat(indexFile).then(
    (s) => s.isFile(),
    () => false,
  );
  if (hasIndex) {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexFile, 'utf8'));
    } catch (e) {
      fail(indexFile, `cannot read the shard index (${(e as Error).message})`);
    }
    const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
    if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) fail(indexFile, 'has no "weight_map" object');
    const shards = new Set<string>();
    for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard === '..') {
        fail(indexFile, `weight_map entry "${name}" names ${JSON.stringify(shard)}, not a file name in this folder`);
      }
      shards.add(shard);
    }
    if (shards.size === 0) fail(indexFile, 'weight_map is empty');
    return { files: [...shards].sort().map((s) => join(dir, s)), indexFile, weightMap: weightMap as Record<string, string> };
  }
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new SclabError('model', `cannot read model folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  if (entries.includes('model.safetensors')) return { files: [join(dir, 'model.safetensors')] };
  const shards = entries.filter((f) => f.endsWith('.safetensors')).sort();
  if (shards.length > 0) return { files: shards.map((s) => join(dir, s)) };
  const other = entries.filter((f) => /\.(bin|pt|pth|gguf)$/.test(f));
  throw new SclabError(
    'model',
    `${dir} holds no *.safetensors weights` +
      (other.length ? ` (found ${other.join(', ')}: PyTorch pickles and GGUF are not read; download the safetensors version of the model)` : ''),
  );
}
