// The model cache: <cacheDir>/models/<name>/ holding the files and sclab-cache.json, which lists each file's
// sha256. A file counts only if it is listed and its bytes still hash to the listed digest.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SclabError } from '../../model/errors';

export const MANIFEST_FILE = 'sclab-cache.json';

export interface CachedFile {
  sha256: string;
  size: number;
  /** where the bytes came from: a URL or a mirror path */
  source: string;
  /** true when the digest was checked against a pinned catalogue digest, false when first-download trust */
  pinned: boolean;
  storedAt: string;
}

export interface CacheManifest {
  schema: 'sclab.model-cache/1';
  name: string;
  files: Record<string, CachedFile>;
}

export function modelCacheDir(cacheDir: string, name: string): string {
  return join(cacheDir, 'models', name);
}

/** A missing or unreadable manifest reads as empty: its files then count as unverified and are fetched again. */
export async function readManifest(dir: string, name: string): Promise<CacheManifest> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as CacheManifest;
    if (m && m.schema === 'sclab.model-cache/1' && m.files && typeof m.files === 'object') return m;
  } catch {
    // fall through
  }
  return { schema: 'sclab.model-cache/1', name, files: {} };
}

/** Written to a temp file then renamed, so a crash never leaves half a manifest. */
export async function writeManifest(dir: string, manifest: CacheManifest): Promise<void> {
  const tmp = join(dir, `${MANIFEST_FILE}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
    await rename(tmp, join(dir, MANIFEST_FILE));
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SclabError('io', `cannot write the model cache manifest in ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** A unique .part name beside the destination: concurrent resolvers never write into each other's file. */
export function partPath(dest: string): string {
  return `${dest}.${randomBytes(4).toString('hex')}.part`;
}
