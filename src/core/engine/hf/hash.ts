// Streaming sha256 of files (weight files can be GBs, datasets hundreds of MB), hashed chunk by chunk.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SclabError } from '../../model/errors';

export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  } catch (e) {
    if (signal?.aborted) throw new SclabError('cancelled', 'cancelled', { cause: e });
    throw new SclabError('io', `cannot read ${file} to hash it: ${(e as Error).message}`, { cause: e });
  }
  return hash.digest('hex');
}

/**
 * One digest for a model's weights: the file's own sha256 when there is one file (the same value the Hub shows),
 * else the sha256 of `sha256sum`-style lines "<digest>  <name>\n" over the files sorted by name.
 */
export function combineWeightDigests(digests: Array<{ name: string; sha256: string }>): string {
  if (digests.length === 1) return digests[0]!.sha256;
  const lines = [...digests]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((d) => `${d.sha256}  ${d.name}\n`)
    .join('');
  return createHash('sha256').update(lines).digest('hex');
}
