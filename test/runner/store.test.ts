import { mkdtempSync, readFileSync, appendFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { RoundRecord } from '../../src/core/model/record';
import { readRecords, RunStore, writeFileAtomic } from '../../src/core/runner/store';
import { cacheKey, ResponseCache, isCacheable } from '../../src/core/runner/cache';
import { DecodingSchema } from '../../src/core/model/chat';
import { sampleManifest } from '../support/sample-manifest';

function rec(itemId: string, round = 0): RoundRecord {
  return { itemId, condition: 'baseline', round, messages: [{ role: 'user', content: 'q' }], prefill: '', response: ' (a)', answer: { index: 0, label: '(a)' }, correct: true, latencyMs: 1, attempts: 1, cached: false, at: '2026-01-01T00:00:00.000Z' };
}

describe('run store', () => {
  it('writes a file given as pieces exactly as the pieces joined, across write batches', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'items.jsonl');
    const pieces = Array.from({ length: 5000 }, (_, i) => `${'é漢 '.repeat(100 + (i % 13))}${i}\n`);
    expect(pieces.join('').length).toBeGreaterThan(1 << 20); // more than one batch
    await writeFileAtomic(file, pieces);
    expect(readFileSync(file, 'utf8')).toBe(pieces.join(''));
    await writeFileAtomic(file, []);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('appends one line per record and reads them back', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    await store.append(rec('a'));
    await store.append(rec('b'));
    await store.close();
    const lines = readFileSync(path.join(dir, 'records.jsonl'), 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect((await readRecords(dir)).records.map((r) => r.itemId)).toEqual(['a', 'b']);
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });

  it('keeps every line whole and in order when many appends race', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    const ids = Array.from({ length: 300 }, (_, i) => `i${i}`);
    let resolvedBeforeWritten = 0;
    await Promise.all(
      ids.map(async (id, i) => {
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 0));
        await store.append(rec(id));
        // when append resolves, the line must already be in the file
        if (!readFileSync(path.join(dir, 'records.jsonl'), 'utf8').includes(`"itemId":"${id}"`)) resolvedBeforeWritten++;
      }),
    );
    await store.close();
    expect(resolvedBeforeWritten).toBe(0);
    const read = (await readRecords(dir)).records.map((r) => r.itemId);
    expect(read.sort()).toEqual([...ids].sort());
  });

  it('writes the lines appended in one turn of the event loop (answers read one after another) in one write', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    // cast: the store's file handle is private; its class's write is what every append ends in
    const handle = (store as unknown as { records: { constructor: { prototype: { write: (...a: unknown[]) => Promise<unknown> } } } }).records;
    const writes = vi.spyOn(handle.constructor.prototype, 'write');
    const ids = Array.from({ length: 50 }, (_, i) => `t${i}`);
    // one immediate callback each: separate tasks of the same turn, as the answers of one poll of the sockets are (not
    // timers: fifty 1 ms timers made one after another can fall due in two turns on a loaded machine)
    const appended = await Promise.all(ids.map((id) => new Promise<Promise<void>>((r) => setImmediate(() => r(store.append(rec(id)))))));
    await Promise.all(appended);
    expect(writes).toHaveBeenCalledTimes(1);
    writes.mockRestore();
    await store.close();
    expect((await readRecords(dir)).records.map((r) => r.itemId)).toEqual(ids);
  });

  it('drops and cuts off a torn last line, keeping every whole line', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    await store.append(rec('a'));
    await store.close();
    appendFileSync(path.join(dir, 'records.jsonl'), '{"itemId":"b","cond');
    const read = await readRecords(dir);
    expect(read.records.map((r) => r.itemId)).toEqual(['a']);
    expect(read.tornBytes).toBe(19);
    const { store: reopened, resume, tornBytes } = await RunStore.open(dir);
    expect(resume.counts.recorded).toBe(1);
    expect(tornBytes).toBe(19);
    await reopened.append(rec('b'));
    await reopened.close();
    expect((await readRecords(dir)).records.map((r) => r.itemId)).toEqual(['a', 'b']);
  });

  it('refuses a corrupted line in the middle, naming file and line', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    await store.close();
    writeFileSync(path.join(dir, 'records.jsonl'), JSON.stringify(rec('a')) + '\nnot json\n' + JSON.stringify(rec('b')) + '\n');
    await expect(readRecords(dir)).rejects.toThrow(/records\.jsonl:2:1: not valid JSON/);
  });

  it('refuses to create a run in an existing folder and to open a run held by a live process', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-store-')), 'run');
    const store = await RunStore.create(dir, sampleManifest());
    await expect(RunStore.create(dir, sampleManifest())).rejects.toThrow(/already exists/);
    // held by this very process: a second open here is refused too
    await expect(RunStore.open(dir)).rejects.toThrow(/in use by this process/);
    await store.close();
    writeFileSync(path.join(dir, 'run.lock'), '1'); // pid 1 is alive (a lock as earlier versions wrote it)
    await expect(RunStore.open(dir)).rejects.toThrow(/in use by process 1/);
    writeFileSync(path.join(dir, 'run.lock'), '999999999'); // a dead process's lock is taken over
    const { store: reopened } = await RunStore.open(dir);
    await reopened.close();
  });
});

describe('response cache', () => {
  const decoding = DecodingSchema.parse({});
  it('keys on content, not on property order', () => {
    const a = cacheKey({ backend: 'openai', model: 'm', messages: [{ role: 'user', content: 'hi' }], prefill: 'P', decoding });
    const b = cacheKey({ decoding: { ...decoding }, prefill: 'P', messages: [{ content: 'hi', role: 'user' }], model: 'm', backend: 'openai' });
    const c = cacheKey({ backend: 'openai', model: 'm', messages: [{ role: 'user', content: 'hi!' }], prefill: 'P', decoding });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('stores and returns responses; unseeded sampling is not cached', async () => {
    const cache = new ResponseCache(mkdtempSync(path.join(tmpdir(), 'sclab-cache-')));
    expect(await cache.get('ff00')).toBeUndefined();
    await cache.put('ff00', { chat: { text: ' (b)' } });
    expect(await cache.get('ff00')).toEqual({ chat: { text: ' (b)' } });
    expect(isCacheable(decoding)).toBe(true);
    expect(isCacheable({ ...decoding, temperature: 0.7 })).toBe(false);
    expect(isCacheable({ ...decoding, temperature: 0.7, seed: 1 })).toBe(true);
  });
});
