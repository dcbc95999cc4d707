// Model resolution: a spec (a local path or a catalogue name) becomes files on disk, fetched into a verified
// cache when needed: <cacheDir>/models/<name>/ with sclab-cache.json listing each file's sha256. Sources, in
// order: the cache (re-hashed on every use), mirror folders (<mirror>/<name>/<file>), then the network.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SclabError } from '../model/errors';
import { CATALOG, findCatalogEntry, type CatalogEntry, type CatalogFile } from './catalog';
import { sha256File } from './hf/hash';
import { loadHfModel } from './hf/load';
import { classifyLocalPath } from './hf/local-spec';
import { MANIFEST_FILE, modelCacheDir, partPath, readManifest, writeManifest, type CacheManifest } from './hf/model-cache';
import { UnreachableError, copyToPart, downloadToPart, type Progress, type TransferResult } from './hf/transfer';
import { loadLlama2c } from './llama2c';
import type { SharedWeights } from './shared-weights';
import type { LoadedModel } from './types';

export type ResolvedModel =
  | { kind: 'llama2c'; bin: string; tokenizer: string; name: string }
  | {
      kind: 'hf';
      dir: string;
      name: string;
      /** digests of files resolution already verified (file name → sha256), so loading does not hash them again */
      sha256?: Record<string, string>;
    };

export interface ResolveOptions {
  cacheDir: string;
  /** local folders searched before downloading, each laid out as <mirror>/<name>/<file> */
  mirrors?: string[];
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** false: never touch the network (cache and mirrors only). Default true. */
  allowDownload?: boolean;
  /** relative paths resolve against this folder (default: the process's working directory) */
  baseDir?: string;
}

export type { Progress } from './hf/transfer';

/** A path, not a name: absolute, or starting with '.', or containing a separator. */
function looksLikePath(spec: string): boolean {
  return path.isAbsolute(spec) || spec.startsWith('.') || spec.includes('/') || spec.includes('\\');
}

export async function resolveModel(spec: string, opts: ResolveOptions): Promise<ResolvedModel> {
  const trimmed = spec.trim();
  if (trimmed === '') throw new SclabError('config', 'no model given: pass a catalogue name (e.g. stories260K) or a model folder path');
  const entry = looksLikePath(trimmed) ? undefined : findCatalogEntry(trimmed);
  if (entry) return resolveCatalogEntry(entry, opts);
  const local = path.resolve(opts.baseDir ?? process.cwd(), trimmed);
  const exists = await stat(local).then(
    () => true,
    () => false,
  );
  if (exists) return classifyLocalPath(local);
  throw new SclabError(
    'model',
    `model "${spec}" is neither an existing path (${local}) nor a catalogue name; catalogue: ${CATALOG.map((e) => e.name).join(', ')}`,
  );
}

/** Loads what resolveModel found; shared: the weights are already in a shared kernel memory (see shared-weights.ts). */
export async function loadModel(resolved: ResolvedModel, shared?: SharedWeights): Promise<LoadedModel> {
  if (resolved.kind === 'llama2c') return loadLlama2c(resolved.bin, resolved.tokenizer, shared);
  return loadHfModel(resolved.dir, { name: resolved.name, knownSha256: resolved.sha256, ...(shared ? { shared } : {}) });
}

/** The per-user cache folder, from values the host passes in (core reads no environment). */
export function defaultCacheDir(env: { XDG_CACHE_HOME?: string; HOME?: string; LOCALAPPDATA?: string; platform: string }): string {
  const usable = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v : undefined);
  if (env.platform === 'win32') {
    const local = usable(env.LOCALAPPDATA);
    if (local) return path.win32.join(local, 'sclab', 'Cache');
    const home = usable(env.HOME);
    if (home) return path.win32.join(home, 'AppData', 'Local', 'sclab', 'Cache');
  } else if (env.platform === 'darwin') {
    const home = usable(env.HOME);
    if (home) return path.posix.join(home, 'Library', 'Caches', 'sclab');
  } else {
    const xdg = usable(env.XDG_CACHE_HOME);
    // The XDG spec says relative values are invalid and must be ignored.
    if (xdg && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, 'sclab');
    const home = usable(env.HOME);
    if (home) return path.posix.join(home, '.cache', 'sclab');
  }
  throw new SclabError('config', 'cannot choose a model cache folder (no home folder is known): set SCLAB_CACHE_DIR to a writable folder');
}

/** What a host reads from its environment to place and find models; core only receives it. */
export interface ModelCacheEnv {
  SCLAB_CACHE_DIR?: string;
  SCLAB_MODEL_MIRRORS?: string;
  XDG_CACHE_HOME?: string;
  HOME?: string;
  LOCALAPPDATA?: string;
}

/**
 * The model cache folder and local mirrors, one rule for every host (a model downloaded by the CLI serves the
 * extension too): SCLAB_CACHE_DIR, else the platform's per-user cache; SCLAB_MODEL_MIRRORS is a path list searched
 * before downloading, then any mirrors the caller adds.
 */
export function modelCacheSettings(env: ModelCacheEnv, platform: string, extraMirrors: string[] = []): { cacheDir: string; mirrors: string[] } {
  const delimiter = platform === 'win32' ? ';' : ':';
  return {
    cacheDir: env.SCLAB_CACHE_DIR ?? defaultCacheDir({ XDG_CACHE_HOME: env.XDG_CACHE_HOME, HOME: env.HOME, LOCALAPPDATA: env.LOCALAPPDATA, platform }),
    mirrors: [...(env.SCLAB_MODEL_MIRRORS ?? '').split(delimiter).filter(Boolean), ...extraMirrors],
  };
}

// ---- catalogue entries ------------------------------------------------------------------------------------

interface FileOutcome {
  file: CatalogFile;
  sha256?: string;
  /** why the file could not be had; undefined when it is in the cache now or optional and absent */
  missing?: string;
}

async function exists(p: string): Promise<number | null> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

async function resolveCatalogEntry(entry: CatalogEntry, opts: ResolveOptions): Promise<ResolvedModel> {
  const dir = modelCacheDir(opts.cacheDir, entry.name);
  const manifest = await readManifest(dir, entry.name);
  const outcomes: FileOutcome[] = [];
  let offlineReason: string | undefined = opts.allowDownload === false ? 'downloads are turned off' : undefined;
  const rejected: string[] = [];
  for (const file of entry.files) {
    if (opts.signal?.aborted) throw new SclabError('cancelled', 'cancelled');
    const outcome = await ensureFile(entry, file, dir, manifest, opts, offlineReason, rejected);
    if (outcome.offline) offlineReason = outcome.offline;
    outcomes.push(outcome);
  }
  const missing = outcomes.filter((o) => o.missing !== undefined);
  if (missing.length > 0) throw offlineError(entry, dir, missing, offlineReason ?? 'the files could not be had', rejected, opts);

  if (entry.kind === 'llama2c') {
    const { bin, tokenizer } = entry.llama2c!;
    return { kind: 'llama2c', bin: path.join(dir, bin), tokenizer: path.join(dir, tokenizer), name: entry.name };
  }
  const sha256: Record<string, string> = {};
  for (const o of outcomes) if (o.sha256) sha256[o.file.path] = o.sha256;
  return { kind: 'hf', dir, name: entry.name, sha256 };
}

/**
 * Makes one file present and verified in the cache. Order: the cached copy (if it still hashes to the pinned or
 * recorded digest), each mirror (checked against the pinned digest), the network (unless offline).
 */
async function ensureFile(
  entry: CatalogEntry,
  file: CatalogFile,
  dir: string,
  manifest: CacheManifest,
  opts: ResolveOptions,
  offline: string | undefined,
  rejected: string[],
): Promise<FileOutcome & { offline?: string }> {
  const dest = path.join(dir, file.path);
  const recorded = manifest.files[file.path];
  const expected = file.sha256 ?? recorded?.sha256;
  const cachedSize = await exists(dest);
  if (cachedSize !== null) {
    const digest = await sha256File(dest, opts.signal);
    // No pin and no record: a file someone put here by hand (downloads only ever appear by rename after their
    // digest is recorded). Trust it on first use and record its digest, as the offline advice promises.
    if (expected === undefined || digest === expected) {
      if (!recorded || recorded.sha256 !== digest) await record(dir, manifest, file, digest, cachedSize, recorded?.source ?? `${dest} (placed by hand)`);
      return { file, sha256: digest };
    }
    rejected.push(`${dest}: sha256 ${digest} does not match ${file.sha256 ? 'the pinned' : 'the recorded'} ${expected}`);
  }

  for (const mirror of opts.mirrors ?? []) {
    const src = path.join(mirror, entry.name, file.path);
    const size = await exists(src);
    if (size === null) continue;
    await mkdir(dir, { recursive: true });
    const got = await copyToPart(src, partPath(dest), size, { file: file.path, signal: opts.signal, onProgress: opts.onProgress });
    if (file.sha256 && got.sha256 !== file.sha256) {
      await rm(got.part, { force: true });
      rejected.push(`${src}: sha256 ${got.sha256} does not match the pinned ${file.sha256}`);
      continue;
    }
    await commit(dir, manifest, file, got, dest, src);
    return { file, sha256: got.sha256 };
  }

  if (offline) return { file, missing: offline };
  await mkdir(dir, { recursive: true });
  let got: TransferResult | 'not-found';
  try {
    got = await downloadToPart(file.url, partPath(dest), opts.fetchImpl ?? fetch, { file: file.path, signal: opts.signal, onProgress: opts.onProgress });
  } catch (e) {
    if (e instanceof UnreachableError) return { file, missing: e.message, offline: `the download failed (${e.message})` };
    throw e;
  }
  if (got === 'not-found') {
    if (file.optional) return { file };
    throw new SclabError('model', `downloading ${file.url} failed: HTTP 404 (the catalogue entry ${entry.name} may be out of date; pass a local folder instead)`, { status: 404 });
  }
  if (file.sha256 && got.sha256 !== file.sha256) {
    await rm(got.part, { force: true });
    throw new SclabError('model', `downloaded ${file.url} but its sha256 ${got.sha256} does not match the pinned ${file.sha256}; nothing was kept`);
  }
  if (file.size !== undefined && got.size !== file.size) {
    await rm(got.part, { force: true });
    throw new SclabError('model', `downloaded ${file.url} but got ${got.size} bytes, expected ${file.size}; nothing was kept`);
  }
  await commit(dir, manifest, file, got, dest, file.url);
  return { file, sha256: got.sha256 };
}

async function record(dir: string, manifest: CacheManifest, file: CatalogFile, sha256: string, size: number, source: string): Promise<void> {
  manifest.files[file.path] = { sha256, size, source, pinned: file.sha256 !== undefined, storedAt: new Date().toISOString() };
  await writeManifest(dir, manifest);
}

/**
 * The manifest is written before the rename: if the process dies in between, the old file (if any) no longer
 * matches the recorded digest and is fetched again; a .part file never counts.
 */
async function commit(dir: string, manifest: CacheManifest, file: CatalogFile, got: TransferResult, dest: string, source: string): Promise<void> {
  await record(dir, manifest, file, got.sha256, got.size, source);
  try {
    await rename(got.part, dest);
  } catch (e) {
    await rm(got.part, { force: true });
    throw new SclabError('io', `cannot move ${got.part} to ${dest}: ${(e as Error).message}`, { cause: e });
  }
}

function offlineError(entry: CatalogEntry, dir: string, missing: FileOutcome[], reason: string, rejected: string[], opts: ResolveOptions): SclabError {
  const mirrors = opts.mirrors ?? [];
  const lines = [
    `model "${entry.name}" is not in the cache at ${dir} and ${reason}.`,
    ...(rejected.length ? ['Rejected copies:', ...rejected.map((r) => `  ${r}`)] : []),
    'To get it, download:',
    ...missing.map((m) => `  ${m.file.url}${m.file.sha256 ? `  (sha256 ${m.file.sha256})` : ''}`),
    `and put the files in ${dir}${path.sep} (files without a pinned digest are hashed on first use and recorded in ${MANIFEST_FILE}),`,
    `or in <mirror>/${entry.name}/ inside a mirror folder${mirrors.length ? ` (searched: ${mirrors.join(', ')})` : ''}.`,
    'Set SCLAB_CACHE_DIR to use another cache folder, or pass the path of a local model folder (or llama2.c .bin) instead of a name.',
  ];
  return new SclabError('model', lines.join('\n'));
}
