import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewerService } from '../../src/core/viewer/service';
import type { ItemResult, OverviewResult, ProbesResult, RanksResult, SamplesResult } from '../../src/core/viewer/protocol';
import { writeSyntheticRun } from './syntheticRun';

let tmp: string;
let runDir: string;
let bareDir: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sclab-viewer-'));
  runDir = (await writeSyntheticRun(path.join(tmp, 'run-a'), { items: 60, rounds: 3, layers: 8 })).dir;
  bareDir = (await writeSyntheticRun(path.join(tmp, 'run-bare'), { items: 10, rounds: 2, layers: 0, noRanks: true })).dir;
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const opts = { analysis: { bootstrap: { resamples: 50 } } };

async function ask<T>(svc: ReturnType<typeof createViewerService>, method: string, params: unknown = {}, id = 1): Promise<T> {
  const r = await svc.handle({ kind: 'request', id, method, params });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  expect(r.id).toBe(id);
  return r.result as T;
}

describe('viewer service', () => {
  it('answers the overview from the analysis and caches it stamped in summary.json', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const o = await ask<OverviewResult>(svc, 'overview');
    expect(o.run.experiment.task).toBe('mcq');
    expect(o.conditions.map((c) => [c.name, c.kind, c.rounds.length])).toEqual([
      ['baseline', 'baseline', 1],
      ['self-correct', 'self-correct', 3],
    ]);
    expect(o.totals.records).toBe(60 * 4);
    expect(o.available).toMatchObject({ ranks: true, probes: true, instructions: false, compare: false });
    await ask(svc, 'ranks'); // the full analysis (with intervals) is computed and cached when a page needs it
    const cached = JSON.parse(await fs.readFile(path.join(runDir, 'summary.json'), 'utf8'));
    expect(cached.source.cache).toBe('sclab.viewer-cache/1');
    // a second service reads the cache: same answer
    const o2 = await ask<OverviewResult>(createViewerService({ runDir, ...opts }), 'overview');
    expect(o2.conditions).toEqual(o.conditions);
  });

  it('does not trust a summary.json whose stamp does not match the records', async () => {
    const dir = (await writeSyntheticRun(path.join(tmp, 'run-stale'), { items: 12, rounds: 2, layers: 0 })).dir;
    await ask(createViewerService({ runDir: dir, ...opts }), 'probes');
    const cached = JSON.parse(await fs.readFile(path.join(dir, 'summary.json'), 'utf8'));
    cached.records = 999999; // a forged number…
    cached.source.recordsBytes += 1; // …under a stamp that no longer matches
    await fs.writeFile(path.join(dir, 'summary.json'), JSON.stringify(cached));
    const o = await ask<OverviewResult>(createViewerService({ runDir: dir, ...opts }), 'overview');
    expect(o.totals.records).toBe(12 * 3);
  });

  it('pages the samples and never returns more than asked', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const p1 = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 25 });
    expect(p1.total).toBe(120); // 60 items × 2 conditions
    expect(p1.rows).toHaveLength(25);
    const p5 = await ask<SamplesResult>(svc, 'samples', { offset: 100, limit: 25 });
    expect(p5.rows).toHaveLength(20);
    const all = [];
    for (let off = 0; off < 120; off += 25) all.push(...(await ask<SamplesResult>(svc, 'samples', { offset: off, limit: 25 })).rows);
    expect(new Set(all.map((r) => `${r.itemId}/${r.condition}`)).size).toBe(120);
    expect(p1.probe).toBe('morality');
  });

  it('filters by condition, text, rank change and flip', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const sc = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct' } });
    expect(sc.total).toBe(60);
    expect(sc.rows.every((r) => r.condition === 'self-correct' && r.rounds.length === 3)).toBe(true);
    const text = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { text: 'ITEM 7)' } });
    expect(text.rows.map((r) => r.itemId).sort()).toEqual(['bbq-00007', 'bbq-00007']);
    const improved = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct', rankChange: 'improved' } });
    expect(improved.total).toBeGreaterThan(0);
    expect(improved.rows.every((r) => r.rankLast! < r.rankFirst!)).toBe(true);
    const unchanged = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct', rankChange: 'unchanged' } });
    expect(improved.total + unchanged.total).toBe(60); // the synthetic ranks never worsen
    const w2r = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct', flip: 'wrong-to-right' } });
    expect(w2r.rows.every((r) => r.rounds[0]!.correct === false && r.rounds[2]!.correct === true)).toBe(true);
    const r1 = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct', rankFirst: 1 } });
    expect(r1.rows.every((r) => r.rankFirst === 1)).toBe(true);
  });

  it('sorts both ways with nulls last and a stable tie order', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const asc = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct' }, sort: { key: 'rankChange', dir: 'asc' } });
    const d = asc.rows.map((r) => r.rankLast! - r.rankFirst!);
    expect(d).toEqual([...d].sort((x, y) => x - y));
    const desc = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 500, filter: { condition: 'self-correct' }, sort: { key: 'bandLast', dir: 'desc' } });
    const b = desc.rows.map((r) => r.bandLast!);
    expect(b).toEqual([...b].sort((x, y) => y - x));
    const byItem = await ask<SamplesResult>(svc, 'samples', { offset: 0, limit: 4, sort: { key: 'item', dir: 'desc' } });
    expect(byItem.rows.map((r) => r.itemId)).toEqual(['bbq-00059', 'bbq-00059', 'bbq-00058', 'bbq-00058']);
  });

  it('gives one item across rounds with ranks, probe bands and the diffs between answers', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const it = await ask<ItemResult>(svc, 'item', { itemId: 'bbq-00003' });
    expect(it.item.source).toEqual({ file: 'data/bbq.jsonl', line: 4 });
    const sc = it.conditions.find((c) => c.condition === 'self-correct')!;
    expect(sc.rounds).toHaveLength(3);
    expect(sc.diffs.map((d) => [d.from, d.to])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(sc.rounds[0]!.probes.morality!.values).toHaveLength(8);
    expect(typeof sc.rounds[0]!.probes.morality!.band).toBe('number');
    expect(it.probe).toMatchObject({ name: 'morality', lo: 4, hi: 7 });
    const missing = await svc.handle({ kind: 'request', id: 9, method: 'item', params: { itemId: 'nope' } });
    expect(missing).toMatchObject({ id: 9, ok: false, error: { code: 'bad_request' } });
  });

  it('answers ranks and probes from the analysis', async () => {
    const svc = createViewerService({ runDir, ...opts });
    const r = await ask<RanksResult>(svc, 'ranks');
    expect(r.available).toBe(true);
    if (r.available) {
      expect(r.transitions.length).toBe(2);
      expect(r.rankSplit.length).toBeGreaterThan(0);
    }
    const p = await ask<ProbesResult>(svc, 'probes');
    expect(p.available).toBe(true);
    if (p.available) {
      expect(p.curves.length).toBe(4);
      expect(p.matrices[0]!.layers).toHaveLength(8);
      expect(p.superficiality.length).toBe(3);
    }
  });

  it('says honestly what a run without ranks or probes lacks', async () => {
    const svc = createViewerService({ runDir: bareDir, ...opts });
    const o = await ask<OverviewResult>(svc, 'overview');
    expect(o.available.probes).toBe(false);
    expect(o.notes.join(' ')).toMatch(/no probe scores: configure probes/);
    expect(await ask(svc, 'probes')).toMatchObject({ available: false, reason: expect.stringMatching(/no probe scores/) });
    expect(await ask(svc, 'ranks')).toMatchObject({ available: false, reason: expect.stringMatching(/no gold ranks/) });
    expect(await ask(svc, 'compare')).toMatchObject({ available: false, reason: expect.stringMatching(/--compare/) });
  });

  it('compares two runs item by item', async () => {
    const other = (await writeSyntheticRun(path.join(tmp, 'run-b'), { items: 60, rounds: 3, layers: 0, seed: 99 })).dir;
    const svc = createViewerService({ runDir, compareRunDir: other, ...opts });
    const c = await ask<{ available: boolean; comparison: { rows: Array<{ paired: number }> } }>(svc, 'compare');
    expect(c.available).toBe(true);
    expect(c.comparison.rows.map((r) => r.paired)).toEqual([60, 60, 60, 60]);
  });

  it('answers errors, not exceptions: a missing run folder, a bad message, a command', async () => {
    const svc = createViewerService({ runDir: path.join(tmp, 'nope') });
    expect(await svc.handle({ kind: 'request', id: 4, method: 'overview', params: {} })).toMatchObject({ id: 4, ok: false, error: { code: 'io', message: expect.stringMatching(/manifest/) } });
    expect(await svc.handle('garbage')).toMatchObject({ id: 0, ok: false, error: { code: 'bad_request' } });
    expect(await svc.handle({ kind: 'command', command: 'openRun', args: {} })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});

describe('viewer service on a cold run', () => {
  it('answers the overview before the bootstrap pages, with the same numbers as the full analysis', async () => {
    const dir = (await writeSyntheticRun(path.join(tmp, 'run-cold'), { items: 40, rounds: 3, layers: 8, seed: 5 })).dir;
    const svc = createViewerService({ runDir: dir, analysis: { bootstrap: { resamples: 30 } } });
    const o = await ask<OverviewResult>(svc, 'overview');
    expect(o.settings.bootstrap.resamples).toBe(30);
    // nothing cached yet: the full analysis runs only when a page needs its intervals
    await expect(fs.readFile(path.join(dir, 'summary.json'), 'utf8')).rejects.toThrow();
    await ask(svc, 'ranks');
    const full = await ask<OverviewResult>(createViewerService({ runDir: dir, analysis: { bootstrap: { resamples: 30 } } }), 'overview');
    expect(full.conditions).toEqual(o.conditions);
    expect(full.settings).toEqual(o.settings);
  });
});

describe('analysis cache key', () => {
  it('treats empty option objects as absent and ignores key order', async () => {
    const { optionsKey } = await import('../../src/core/viewer/service');
    expect(optionsKey({ bootstrap: {}, probes: { bands: {}, measure: undefined } })).toBe(optionsKey({}));
    expect(optionsKey({ bootstrap: { seed: 2, resamples: 10 } })).toBe(optionsKey({ bootstrap: { resamples: 10, seed: 2 } }));
    expect(optionsKey({ bootstrap: { seed: 2 } })).not.toBe(optionsKey({}));
  });
});

describe('writeViewerCache', () => {
  it('writes the stamped full analysis a later service opens from', async () => {
    const { writeViewerCache } = await import('../../src/core/viewer/service');
    const dir = (await writeSyntheticRun(path.join(tmp, 'run-warm'), { items: 10, rounds: 2, layers: 0 })).dir;
    await writeViewerCache(dir, { bootstrap: { resamples: 10 } });
    const cached = JSON.parse(await fs.readFile(path.join(dir, 'summary.json'), 'utf8'));
    expect(cached.source.cache).toBe('sclab.viewer-cache/1');
    expect(cached.settings.bootstrap.resamples).toBe(10);
  });
});
