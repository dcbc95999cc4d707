import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, findCatalogEntry } from '../../src/core/engine/catalog';
import { defaultCacheDir, loadModel, resolveModel, type ResolvedModel } from '../../src/core/engine/resolve';
import { SclabError } from '../../src/core/model/errors';
import { STORIES } from '../support/data';
import { tmpDir, writeHfFolder } from './fixtures';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BIN_URL = 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin';
const TOK_URL = 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/tok512.bin';

function mirrorWithStories(): string {
  const mirror = tmpDir('mirror');
  mkdirSync(join(mirror, 'stories260K'));
  for (const f of ['stories260K.bin', 'tok512.bin']) copyFileSync(join(STORIES, f), join(mirror, 'stories260K', f));
  return mirror;
}

const noFetch: typeof fetch = () => {
  throw new Error('the network must not be used here');
};

/** A fetch that serves files from a map of URL → bytes, in small chunks, and records the calls. */
function fakeFetch(files: Record<string, Buffer>, opts: { breakAfter?: number } = {}) {
  const calls: string[] = [];
  const impl = (async (input: string | URL | Request) => {
    const url = String(input);
    calls.push(url);
    const body = files[url];
    if (!body) return new Response('Entry not found', { status: 404, statusText: 'Not Found' });
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (opts.breakAfter !== undefined && at >= opts.breakAfter) {
          controller.error(new Error('connection reset'));
          return;
        }
        if (at >= body.length) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(body.subarray(at, at + 4096)));
        at += 4096;
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-length': String(body.length) } });
  }) as typeof fetch;
  return { impl, calls };
}

async function caught(p: Promise<unknown>): Promise<SclabError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SclabError);
  return e as SclabError;
}

const partsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part')) : []);

describe('resolveModel: local paths', () => {
  it('classifies Hugging Face folders, llama2.c folders and .bin files', async () => {
    const hf = writeHfFolder({ family: 'llama', dtype: 'F32', tied: true, configExtra: { _name_or_path: 'org/tiny' } });
    expect(await resolveModel(hf.dir, { cacheDir: tmpDir('c') })).toEqual({ kind: 'hf', dir: hf.dir, name: 'org/tiny' });
    expect(await resolveModel(join(hf.dir, 'config.json'), { cacheDir: tmpDir('c') })).toMatchObject({ kind: 'hf', dir: hf.dir });

    const mirror = mirrorWithStories();
    const folder = join(mirror, 'stories260K');
    const want = { kind: 'llama2c', bin: join(folder, 'stories260K.bin'), tokenizer: join(folder, 'tok512.bin'), name: 'stories260K' };
    expect(await resolveModel(folder, { cacheDir: tmpDir('c'), fetchImpl: noFetch })).toEqual(want);
    expect(await resolveModel(join(folder, 'stories260K.bin'), { cacheDir: tmpDir('c') })).toEqual(want);
    expect(await resolveModel('./stories260K', { cacheDir: tmpDir('c'), baseDir: mirror })).toEqual(want);
  });

  it('explains paths that hold no model, and unknown names', async () => {
    const empty = tmpDir('empty');
    expect((await caught(resolveModel(empty, { cacheDir: tmpDir('c') }))).message).toMatch(/neither a Hugging Face model folder.*nor a llama2\.c folder/);
    writeFileSync(join(empty, 'model.bin'), 'x');
    expect((await caught(resolveModel(join(empty, 'model.bin'), { cacheDir: tmpDir('c') }))).message).toMatch(/no llama2\.c tokenizer/);
    const e = await caught(resolveModel('no-such-model', { cacheDir: tmpDir('c'), baseDir: empty }));
    expect(e.code).toBe('model');
    expect(e.message).toContain('stories260K');
    expect(e.message).toContain('SmolLM2-135M-Instruct');
  });
});

describe('resolveModel: catalogue', () => {
  it('lists pinned digests for stories260K that match the shared copy', () => {
    const entry = findCatalogEntry('STORIES260k')!;
    for (const f of entry.files) expect(f.sha256).toBe(sha(readFileSync(join(STORIES, f.path))));
    expect(CATALOG.filter((e) => e.kind === 'hf').every((e) => e.files.every((f) => f.sha256 === undefined))).toBe(true);
  });

  it('seeds the cache from a mirror, then uses the verified cache without the mirror or the network', async () => {
    const cacheDir = tmpDir('cache');
    const progress: string[] = [];
    const r = await resolveModel('stories260K', { cacheDir, mirrors: [tmpDir('emptymirror'), mirrorWithStories()], allowDownload: false, onProgress: (p) => progress.push(p.file) });
    const dir = join(cacheDir, 'models', 'stories260K');
    expect(r).toEqual({ kind: 'llama2c', bin: join(dir, 'stories260K.bin'), tokenizer: join(dir, 'tok512.bin'), name: 'stories260K' });
    expect(readFileSync(r.kind === 'llama2c' ? r.bin : '').equals(readFileSync(join(STORIES, 'stories260K.bin')))).toBe(true);
    expect(progress).toContain('tok512.bin');
    const manifest = JSON.parse(readFileSync(join(dir, 'sclab-cache.json'), 'utf8'));
    expect(manifest.files['tok512.bin']).toMatchObject({ sha256: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312', size: 6227, pinned: true });
    expect(partsIn(dir)).toEqual([]);

    expect(await resolveModel('stories260K', { cacheDir, allowDownload: true, fetchImpl: noFetch })).toEqual(r);
  });

  it('rejects a corrupted mirror file by checksum and leaves nothing verified', async () => {
    const cacheDir = tmpDir('cache');
    const mirror = mirrorWithStories();
    const tok = join(mirror, 'stories260K', 'tok512.bin');
    const bytes = readFileSync(tok);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(tok, bytes);
    const e = await caught(resolveModel('stories260K', { cacheDir, mirrors: [mirror], allowDownload: false }));
    expect(e.code).toBe('model');
    expect(e.message).toContain(`${tok}: sha256 ${sha(bytes)} does not match the pinned 037cb335`);
    expect(e.message).toContain(TOK_URL);
    const dir = join(cacheDir, 'models', 'stories260K');
    expect(existsSync(join(dir, 'tok512.bin'))).toBe(false);
    expect(partsIn(dir)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'sclab-cache.json'), 'utf8')).files['tok512.bin']).toBeUndefined();
  });

  it('re-verifies the cache on every use and replaces a damaged file', async () => {
    const cacheDir = tmpDir('cache');
    const mirror = mirrorWithStories();
    const r = await resolveModel('stories260K', { cacheDir, mirrors: [mirror], allowDownload: false });
    const bin = r.kind === 'llama2c' ? r.bin : '';
    const damaged = readFileSync(bin);
    damaged[5000] = damaged[5000]! ^ 1;
    writeFileSync(bin, damaged);
    const e = await caught(resolveModel('stories260K', { cacheDir, allowDownload: false }));
    expect(e.message).toMatch(/stories260K\.bin: sha256 \w+ does not match the pinned b0a507e7/);
    await resolveModel('stories260K', { cacheDir, mirrors: [mirror], allowDownload: false });
    expect(sha(readFileSync(bin))).toBe('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
  });

  it('downloads through fetch into .part files, reports progress, verifies, then renames', async () => {
    const cacheDir = tmpDir('cache');
    const bin = readFileSync(join(STORIES, 'stories260K.bin'));
    const tok = readFileSync(join(STORIES, 'tok512.bin'));
    const { impl, calls } = fakeFetch({ [BIN_URL]: bin, [TOK_URL]: tok });
    const seen: Array<{ file: string; received: number; total?: number }> = [];
    const r = await resolveModel('stories260K', { cacheDir, fetchImpl: impl, onProgress: (p) => seen.push({ ...p }) });
    expect(calls).toEqual([BIN_URL, TOK_URL]);
    const binSeen = seen.filter((p) => p.file === 'stories260K.bin');
    expect(binSeen.length).toBeGreaterThan(10);
    expect(binSeen.every((p, i) => p.total === bin.length && (i === 0 || p.received > binSeen[i - 1]!.received))).toBe(true);
    expect(binSeen[binSeen.length - 1]!.received).toBe(bin.length);
    expect(r.kind === 'llama2c' && readFileSync(r.tokenizer).equals(tok)).toBe(true);
    const dir = join(cacheDir, 'models', 'stories260K');
    expect(partsIn(dir)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'sclab-cache.json'), 'utf8')).files['stories260K.bin'].source).toBe(BIN_URL);
  });

  it('keeps nothing when a download fails its checksum or breaks off', async () => {
    const cacheDir = tmpDir('cache');
    const dir = join(cacheDir, 'models', 'stories260K');
    const tok = readFileSync(join(STORIES, 'tok512.bin'));
    const evil = Buffer.from(readFileSync(join(STORIES, 'stories260K.bin')));
    evil[0] = evil[0]! ^ 1;
    const e = await caught(resolveModel('stories260K', { cacheDir, fetchImpl: fakeFetch({ [BIN_URL]: evil, [TOK_URL]: tok }).impl }));
    expect(e.message).toMatch(/sha256 \w+ does not match the pinned b0a507e7.*nothing was kept/);
    expect(existsSync(join(dir, 'stories260K.bin'))).toBe(false);
    expect(partsIn(dir)).toEqual([]);

    const broken = await caught(resolveModel('stories260K', { cacheDir, fetchImpl: fakeFetch({ [BIN_URL]: readFileSync(join(STORIES, 'stories260K.bin')), [TOK_URL]: tok }, { breakAfter: 20000 }).impl }));
    expect(broken.message).toMatch(/broke off.*connection reset/);
    expect(existsSync(join(dir, 'stories260K.bin'))).toBe(false);
    expect(partsIn(dir)).toEqual([]);
  });

  it('says exactly how to get a model when offline', async () => {
    const cacheDir = tmpDir('cache');
    for (const opts of [{ allowDownload: false }, { fetchImpl: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch }]) {
      const e = await caught(resolveModel('stories260K', { cacheDir, mirrors: ['/srv/models'], ...opts }));
      expect(e.code).toBe('model');
      expect(e.message).toContain(BIN_URL);
      expect(e.message).toContain(TOK_URL);
      expect(e.message).toContain(join(cacheDir, 'models', 'stories260K'));
      expect(e.message).toContain('SCLAB_CACHE_DIR');
      expect(e.message).toContain('<mirror>/stories260K/');
      expect(e.message).toContain('/srv/models');
      expect(e.message).toMatch(/local model folder/);
      expect(e.message).toMatch(opts.allowDownload === false ? /downloads are turned off/ : /download failed.*fetch failed/);
    }
  });

  it('maps HTTP errors and cancellation', async () => {
    const cacheDir = tmpDir('cache');
    const e500 = await caught(resolveModel('stories260K', { cacheDir, fetchImpl: (async () => new Response('x', { status: 503, statusText: 'Service Unavailable' })) as typeof fetch }));
    expect(e500.message).toMatch(/stories260K\.bin failed: HTTP 503/);
    const ac = new AbortController();
    ac.abort();
    expect((await caught(resolveModel('stories260K', { cacheDir, signal: ac.signal, fetchImpl: noFetch }))).code).toBe('cancelled');
  });

  it('downloads an unpinned Hugging Face entry, records its digests, verifies them later and loads it', async () => {
    const src = writeHfFolder({ family: 'llama', dtype: 'BF16', tied: true });
    const repo = 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/';
    const served: Record<string, Buffer> = {};
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) served[repo + f] = readFileSync(join(src.dir, f));
    const { impl, calls } = fakeFetch(served); // generation_config.json → 404, optional
    const cacheDir = tmpDir('cache');
    const r = await resolveModel('smollm2-135m-instruct', { cacheDir, fetchImpl: impl });
    const dir = join(cacheDir, 'models', 'SmolLM2-135M-Instruct');
    expect(r).toMatchObject({ kind: 'hf', dir, name: 'SmolLM2-135M-Instruct' });
    expect(calls).toContain(repo + 'generation_config.json');
    const manifest = JSON.parse(readFileSync(join(dir, 'sclab-cache.json'), 'utf8'));
    const weightsSha = sha(served[repo + 'model.safetensors']!);
    expect(manifest.files['model.safetensors']).toMatchObject({ sha256: weightsSha, pinned: false });
    expect(manifest.files['generation_config.json']).toBeUndefined();

    const m = await loadModel(r as ResolvedModel);
    expect(m.identity).toMatchObject({ name: 'SmolLM2-135M-Instruct', weightsSha256: weightsSha, nLayers: 2 });

    const w = join(dir, 'model.safetensors');
    const bytes = readFileSync(w);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(w, bytes);
    const e = await caught(resolveModel('SmolLM2-135M-Instruct', { cacheDir, allowDownload: false }));
    expect(e.message).toMatch(/model\.safetensors: sha256 \w+ does not match the recorded/);
  });

  it('accepts unpinned files placed in the cache by hand and records them', async () => {
    const src = writeHfFolder({ family: 'qwen2', dtype: 'F16', tied: true });
    const cacheDir = tmpDir('cache');
    const dir = join(cacheDir, 'models', 'Qwen2.5-0.5B-Instruct');
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) copyFileSync(join(src.dir, f), join(dir, f));
    const r = await resolveModel('Qwen2.5-0.5B-Instruct', { cacheDir, allowDownload: false });
    expect(r.kind).toBe('hf');
    expect(JSON.parse(readFileSync(join(dir, 'sclab-cache.json'), 'utf8')).files['model.safetensors'].source).toMatch(/placed by hand/);
  });
});

describe('defaultCacheDir', () => {
  it('follows each platform\'s convention', () => {
    expect(defaultCacheDir({ platform: 'linux', HOME: '/home/a' })).toBe('/home/a/.cache/sclab');
    expect(defaultCacheDir({ platform: 'linux', HOME: '/home/a', XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/sclab');
    expect(defaultCacheDir({ platform: 'linux', HOME: '/home/a', XDG_CACHE_HOME: 'relative' })).toBe('/home/a/.cache/sclab');
    expect(defaultCacheDir({ platform: 'darwin', HOME: '/Users/a' })).toBe('/Users/a/Library/Caches/sclab');
    expect(defaultCacheDir({ platform: 'win32', LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' })).toBe('C:\\Users\\a\\AppData\\Local\\sclab\\Cache');
    expect(() => defaultCacheDir({ platform: 'linux' })).toThrow(/SCLAB_CACHE_DIR/);
  });
});
