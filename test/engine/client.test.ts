// EngineClient in both modes: the bundled worker thread (built here from source, the way esbuild.mjs builds
// dist/engine-worker.js) and in-process. Same answers, cancellation, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineClient } from '../../src/core/engine/client';
import { SclabError } from '../../src/core/model/errors';
import { BOS, MODEL_DIR, REFERENCE_STORY } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sclab-worker-'));
const workerPath = path.join(tmp, 'engine-worker.js');
let worker: EngineClient;
let local: EngineClient;

beforeAll(async () => {
  // Only the worker entry, with esbuild.mjs's settings, into a temp folder: other engineers' entries cannot break it.
  await build({ entryPoints: [path.join(ROOT, 'src/core/engine/worker.ts')], outfile: workerPath, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
  [worker, local] = await Promise.all([EngineClient.start({ modelSpec: MODEL_DIR, workerPath }), EngineClient.start({ modelSpec: MODEL_DIR, mode: 'in-process' })]);
});
afterAll(async () => {
  await Promise.all([worker?.close(), local?.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('EngineClient', () => {
  it('esbuild.mjs bundles the worker entry to dist/engine-worker.js', () => {
    const script = readFileSync(path.join(ROOT, 'esbuild.mjs'), 'utf8');
    expect(script).toContain("['src/core/engine/worker.ts', 'dist/engine-worker.js']");
  });

  it('runs in a worker thread and in-process with identical answers', async () => {
    expect(worker.mode).toBe('worker');
    expect(local.mode).toBe('in-process');
    expect(await worker.info()).toEqual(await local.info());
    const [ids] = await worker.tokenize(['Once upon a time']);
    expect(ids).toEqual((await local.tokenize(['Once upon a time']))[0]);
    expect(ids![0]).toBe(BOS);
    expect(await worker.decode(ids!)).toBe('Once upon a time');
    expect(await worker.render([{ role: 'user', content: 'Hi' }], 'Hello')).toBe('User: Hi\n\nAssistant: Hello');

    const params = { maxTokens: 30, temperature: 0.8, seed: 3, topLogprobs: 2 };
    const [g1, g2] = await Promise.all([worker.generate([BOS], params), local.generate([BOS], params)]);
    expect(g1).toEqual(g2);

    const conts = [ids!.slice(2), ids!.slice(3)];
    expect(await worker.score(ids!.slice(0, 2), conts)).toEqual(await local.score(ids!.slice(0, 2), conts));

    const hp = { position: 'mean' as const, modules: ['residual' as const, 'attn' as const], convention: 'hf' as const };
    const [h1, h2] = await Promise.all([worker.hidden(ids!, hp), local.hidden(ids!, hp)]);
    expect(h1.residual).toHaveLength(6);
    expect(h1.residual![5]).toBeInstanceOf(Float32Array);
    expect(h1).toEqual(h2);
  });

  it('reproduces the reference story through the worker', async () => {
    const r = await worker.generate([BOS], { maxTokens: 60, temperature: 0 });
    expect(r.text.startsWith(REFERENCE_STORY)).toBe(true);
  });

  it.each(['worker', 'in-process'] as const)('cancels a long generation (%s) and stays usable', async (mode) => {
    const client = mode === 'worker' ? worker : local;
    const ctl = new AbortController();
    const streamed: string[] = [];
    const long = client.generate([BOS], { maxTokens: 511, temperature: 1, seed: 9, ignoreEos: true }, {
      signal: ctl.signal,
      onToken: (t) => {
        streamed.push(t.text);
        if (streamed.length === 3) ctl.abort();
      },
    });
    // queued behind the long one, aborted before it starts
    const queuedCtl = new AbortController();
    const queued = client.generate([BOS], { maxTokens: 5 }, { signal: queuedCtl.signal });
    queuedCtl.abort();
    await expect(queued).rejects.toMatchObject({ code: 'cancelled' });
    await expect(long).rejects.toMatchObject({ code: 'cancelled' });
    expect(streamed.length).toBeGreaterThanOrEqual(3);
    expect(streamed.length).toBeLessThan(511);
    const after = await client.generate([BOS], { maxTokens: 5, temperature: 0 });
    expect(after.tokens).toHaveLength(5);
  });

  it('rejects an already aborted call and reports engine errors as SclabErrors', async () => {
    await expect(worker.generate([BOS], { maxTokens: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
    await expect(worker.generate([], { maxTokens: 1 })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/prompt is empty/) });
    const err = await worker.decode([9999]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SclabError);
  });

  it('fails to start on a model that cannot load, with the loader’s message', async () => {
    await expect(EngineClient.start({ modelSpec: path.join(tmp, 'missing'), workerPath })).rejects.toMatchObject({ code: 'model', message: expect.stringMatching(/does not exist/) });
    await expect(EngineClient.start({ modelSpec: MODEL_DIR, workerPath: path.join(tmp, 'nope.js') })).rejects.toThrow(/not found/);
  });

  it('refuses calls after close', async () => {
    const c = await EngineClient.start({ modelSpec: MODEL_DIR, workerPath });
    await c.close();
    await expect(c.generate([BOS], { maxTokens: 1 })).rejects.toMatchObject({ code: 'cancelled' });
  });
});
