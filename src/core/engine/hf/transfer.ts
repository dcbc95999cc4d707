// Moves model files into the cache as <dest>.<random>.part while hashing them; the caller renames the part only
// after the digest checks out, so an interrupted transfer never leaves a file that counts as verified.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { SclabError } from '../../model/errors';

export interface Progress {
  file: string;
  received: number;
  total?: number;
}

export interface TransferResult {
  part: string;
  sha256: string;
  size: number;
}

export interface TransferOptions {
  file: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Raised when the server could not be reached at all (offline): the resolver turns it into how-to-get-it advice. */
export class UnreachableError extends Error {}

function cancelled(cause?: unknown): SclabError {
  return new SclabError('cancelled', 'cancelled', { cause });
}

async function writeChunks(part: string, chunks: AsyncIterable<Uint8Array>, opts: TransferOptions, total: number | undefined): Promise<TransferResult> {
  const hash = createHash('sha256');
  const fh = await open(part, 'w');
  let size = 0;
  try {
    for await (const chunk of chunks) {
      if (opts.signal?.aborted) throw cancelled();
      hash.update(chunk);
      let at = 0;
      while (at < chunk.length) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
      size += chunk.length;
      opts.onProgress?.({ file: opts.file, received: size, total });
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(part, { force: true });
    if (opts.signal?.aborted) throw cancelled(e);
    throw e;
  }
  await fh.close();
  return { part, sha256: hash.digest('hex'), size };
}

async function* bodyChunks(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export async function downloadToPart(url: string, part: string, fetchImpl: typeof fetch, opts: TransferOptions): Promise<TransferResult | 'not-found'> {
  if (opts.signal?.aborted) throw cancelled();
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: opts.signal, redirect: 'follow' });
  } catch (e) {
    if (opts.signal?.aborted) throw cancelled(e);
    throw new UnreachableError(`${url}: ${(e as Error).message}${(e as { cause?: { code?: string } }).cause?.code ? ` (${(e as { cause: { code: string } }).cause.code})` : ''}`);
  }
  if (res.status === 404) return 'not-found';
  if (!res.ok || !res.body) {
    const hint = res.status === 401 || res.status === 403 ? ' (the repository may be gated or private: download the files in a browser after accepting its terms)' : '';
    throw new SclabError('model', `downloading ${url} failed: HTTP ${res.status} ${res.statusText}${hint}`, { status: res.status });
  }
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  let result: TransferResult;
  try {
    result = await writeChunks(part, bodyChunks(res.body), opts, total);
  } catch (e) {
    if (e instanceof SclabError) throw e;
    throw new UnreachableError(`${url}: the download broke off: ${(e as Error).message}`);
  }
  // A compressed transfer's length is the compressed size; only compare when the bytes arrived as sent.
  if (total !== undefined && !res.headers.get('content-encoding') && result.size !== total) {
    await rm(part, { force: true });
    throw new UnreachableError(`${url}: received ${result.size} of ${total} bytes`);
  }
  return result;
}

export async function copyToPart(src: string, part: string, total: number, opts: TransferOptions): Promise<TransferResult> {
  try {
    return await writeChunks(part, createReadStream(src, { highWaterMark: 1 << 20 }), opts, total);
  } catch (e) {
    if (e instanceof SclabError) throw e;
    throw new SclabError('io', `cannot copy ${src} into the model cache: ${(e as Error).message}`, { cause: e });
  }
}
