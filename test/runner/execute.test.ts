import { promises as fs, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { prepareExperiment } from '../../src/core/runner/prepare';
import { resumeRun, startRun } from '../../src/core/runner/run';
import { executeRun } from '../../src/core/runner/execute';
import { readItems, readManifest, readRecords } from '../../src/core/runner/store';
import { writeViewerCache } from '../../src/core/viewer/service';
import { analyzeRun } from '../../src/core/analysis/analyze';
import { ScriptedBackend } from '../support/scripted-backend';
import { goldRankOf } from '../../src/core/analysis/goldRank';
import type { RoundExtension } from '../../src/core/runner/extensions';

function dataset(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-exec-'));
  const file = path.join(dir, 'items.jsonl');
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `q${i}`, context: `Context ${i}.`, question: 'Who?', choices: ['Ann', 'Bob', 'Unknown'], answer: 2 }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

const settings = { concurrency: 3, requestTimeoutMs: 5000, cacheDir: null, retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 } };

/** The full summary recomputed from the run folder's files (whole records, items.jsonl). */
async function recompute(runDir: string) {
  return analyzeRun((await readRecords(runDir)).records, await readItems(runDir), (await readManifest(runDir)).experiment);
}

describe('executeRun', () => {
  it('runs every item × condition × round once, carrying history into later rounds', async () => {
    const file = dataset(3);
    const prepared = await prepareExperiment({ file, rounds: 3 });
    const backend = new ScriptedBackend({ reply: (_req, call) => (call % 2 ? ' (a)' : ' (c)') });
    const out = mkdtempSync(path.join(tmpdir(), 'sclab-out-'));
    const result = await startRun({ outDir: out, ...prepared, backend, settings, afterComplete: (dir, items) => writeViewerCache(dir, {}, items) });
    expect(result.status).toBe('completed');
    const conditions = prepared.experiment.conditions.map((c) => `${c.name}:${c.rounds}`);
    expect(conditions).toEqual(['baseline:1', 'self-correct:3']);
    expect(result.manifest.counts).toEqual({ planned: 12, recorded: 12, errors: 0, cached: 0 });
    expect(backend.chats).toHaveLength(12);
    const { records } = await readRecords(result.runDir);
    const keys = records.map((r) => `${r.itemId}/${r.condition}/${r.round}`).sort();
    expect(new Set(keys).size).toBe(12);
    // round 2 of self-correct sees both earlier user turns and both earlier answers
    const r2 = records.find((r) => r.itemId === 'q1' && r.condition === 'self-correct' && r.round === 2)!;
    const r0 = records.find((r) => r.itemId === 'q1' && r.condition === 'self-correct' && r.round === 0)!;
    const r1 = records.find((r) => r.itemId === 'q1' && r.condition === 'self-correct' && r.round === 1)!;
    expect(r2.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(r2.messages[1]!.content).toContain(r0.response.trim());
    expect(r2.messages[3]!.content).toContain(r1.response.trim());
    expect(r2.messages[0]!.content).toContain('Context 1.');
    // the answer is parsed and judged against the gold "(c)"
    for (const r of records) expect(r.correct).toBe(r.response === ' (c)');
    const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8'));
    expect(summary.records).toBe(12);
    // written from the run's items in memory, it is the analysis of items.jsonl (the viewer's recomputation)
    const { source: _source, ...cached } = summary;
    expect(JSON.parse(JSON.stringify(await recompute(result.runDir)))).toEqual(cached);
  });

  it('appends what the backend says after the run to the manifest\'s notes', async () => {
    const prepared = await prepareExperiment({ file: dataset(1), rounds: 2 });
    const backend = new ScriptedBackend({ reply: () => ' (c)' });
    const withNotes = Object.assign(backend, { runNotes: async () => [`prefix cache: ${backend.chats.length} chats seen`] });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend: withNotes, settings });
    // after the scheduler's own line (requests sent, 429s, the in-flight limit over time)
    expect(result.manifest.backend.notes.at(-1)).toBe('prefix cache: 3 chats seen');
    expect((await readManifest(result.runDir)).backend.notes).toEqual(result.manifest.backend.notes);
  });

  it('turns a per-item failure into an error record, skips that chain\'s later rounds, and goes on', async () => {
    const file = dataset(2);
    const prepared = await prepareExperiment({ file, rounds: 3 });
    const backend = new ScriptedBackend({
      reply: (req) => {
        const isQ0Round1 = req.messages.length === 3 && req.messages[0]!.content.includes('Context 0.');
        if (isQ0Round1) throw new SclabError('bad_request', 'HTTP 400: context too long');
        return ' (c)';
      },
    });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings });
    expect(result.status).toBe('completed');
    const { records } = await readRecords(result.runDir);
    expect(records).toHaveLength(8);
    const failed = records.filter((r) => r.error);
    expect(failed.map((r) => `${r.itemId}/${r.round}/${r.error!.code}`).sort()).toEqual(['q0/1/bad_request', 'q0/2/skipped']);
    expect(result.manifest.counts.errors).toBe(2);
  });

  it('retries retryable failures and records the attempts', async () => {
    const file = dataset(1);
    const prepared = await prepareExperiment({ file, rounds: 1 });
    let failures = 0;
    const backend = new ScriptedBackend({
      reply: () => {
        if (failures++ < 2) throw new SclabError('rate_limit', 'HTTP 429', { retryable: true, retryAfterMs: 1 });
        return ' (c)';
      },
    });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings: { ...settings, concurrency: 1 } });
    const { records } = await readRecords(result.runDir);
    expect(records.map((r) => r.attempts)).toEqual([3, 1]);
    expect(records.every((r) => r.correct === true)).toBe(true);
  });

  it('stops on an auth failure and marks the run failed', async () => {
    const file = dataset(4);
    const prepared = await prepareExperiment({ file, rounds: 2 });
    const backend = new ScriptedBackend({
      reply: () => {
        throw new SclabError('auth', 'HTTP 401: invalid key');
      },
    });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('auth');
    const m = await readManifest(result.runDir);
    expect(m.status).toBe('failed');
    expect(m.failure).toEqual({ code: 'auth', message: 'HTTP 401: invalid key' });
  });

  it('resumes a cancelled run without asking again for recorded lines', async () => {
    const file = dataset(6);
    const prepared = await prepareExperiment({ file, rounds: 3 });
    const ac = new AbortController();
    let answered = 0;
    const first = new ScriptedBackend({
      reply: () => {
        if (++answered === 7) ac.abort();
        return ' (c)';
      },
      delayMs: 2,
    });
    const out = mkdtempSync(path.join(tmpdir(), 'sclab-out-'));
    const cancelled = await startRun({ outDir: out, ...prepared, backend: first, settings, signal: ac.signal });
    expect(cancelled.status).toBe('cancelled');
    const before = (await readRecords(cancelled.runDir)).records;
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(24);
    const second = new ScriptedBackend({ reply: () => ' (c)' });
    const resumed = await resumeRun({ runDir: cancelled.runDir, items: prepared.items, backend: second, cacheDir: null });
    expect(resumed.status).toBe('completed');
    const after = (await readRecords(cancelled.runDir)).records;
    const keys = after.map((r) => `${r.itemId}/${r.condition}/${r.round}`);
    expect(keys).toHaveLength(24);
    expect(new Set(keys).size).toBe(24);
    expect(second.chats.length).toBe(24 - before.length);
    expect(resumed.manifest.resumes).toHaveLength(1);
  });

  it('resumes from the run folder\'s items.jsonl, read on demand, when given no items; refuses one that lost items', async () => {
    const file = dataset(6);
    const prepared = await prepareExperiment({ file, rounds: 3 });
    const cancelAt = async (n: number) => {
      const ac = new AbortController();
      let answered = 0;
      const backend = new ScriptedBackend({ reply: () => (++answered === n && ac.abort(), ' (c)'), delayMs: 2 });
      const run = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings, signal: ac.signal });
      expect(run.status).toBe('cancelled');
      return run.runDir;
    };
    const runDir = await cancelAt(7);
    const before = (await readRecords(runDir)).records.length;
    const second = new ScriptedBackend({ reply: () => ' (c)' });
    const resumed = await resumeRun({ runDir, backend: second, cacheDir: null });
    expect(resumed.status).toBe('completed');
    const after = (await readRecords(runDir)).records;
    expect(new Set(after.map((r) => `${r.itemId}/${r.condition}/${r.round}`)).size).toBe(24);
    expect(after.map((r) => r.itemId).sort()).toEqual(prepared.items.flatMap((i) => Array<string>(4).fill(i.id)).sort());
    expect(second.chats.length).toBe(24 - before);
    // the conversations of the resumed chains are built from the items read back
    expect(second.chats.some((c) => JSON.stringify(c).includes(prepared.items[5]!.fields.context!))).toBe(true);

    const damaged = await cancelAt(3);
    const itemsFile = path.join(damaged, 'items.jsonl');
    const lines = (await fs.readFile(itemsFile, 'utf8')).trim().split('\n');
    await fs.writeFile(itemsFile, lines.slice(0, -1).join('\n') + '\n');
    await expect(resumeRun({ runDir: damaged, backend: new ScriptedBackend(), cacheDir: null })).rejects.toThrow(/holds 5 items, but the run planned 6/);
    expect((await readManifest(damaged)).status).toBe('cancelled');
  });

  it('reuses identical requests from the response cache in a new run', async () => {
    const file = dataset(2);
    const prepared = await prepareExperiment({ file, rounds: 2 });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'sclab-cache-'));
    const a = new ScriptedBackend();
    await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend: a, settings: { ...settings, cacheDir } });
    const b = new ScriptedBackend();
    const again = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend: b, settings: { ...settings, cacheDir } });
    expect(a.chats).toHaveLength(6);
    expect(b.chats).toHaveLength(0);
    expect(again.manifest.counts.cached).toBe(6);
  });

  it('records exact option log-likelihoods and the gold rank (mean per token, as the authors)', async () => {
    const file = dataset(1);
    const prepared = await prepareExperiment({ file, rounds: 1 });
    // (a): sum -2 over 2 tokens (mean -1); (b): sum -1.5 over 1 token; (c) gold: sum -2.4 over 3 tokens (mean -0.8)
    const backend = new ScriptedBackend({
      scoreOptions: () => ({ logprobs: [-2, -1.5, -2.4], tokenLogprobs: [[-1, -1], [-1.5], [-0.8, -0.8, -0.8]] }),
    });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings });
    const { records } = await readRecords(result.runDir);
    expect(backend.scores[0]!.continuations).toEqual([' (a)', ' (b)', ' (c)']);
    for (const r of records) expect(r.optionScores).toEqual({ method: 'exact', logprobs: [-2, -1.5, -2.4], tokenCounts: [2, 1, 3], aggregate: 'mean', goldRank: 1 });
    expect(result.manifest.settings.rankMethod).toBe('exact');
    // the stored token counts make a sum re-ranking from the record exact: sums −2, −1.5, −2.4 → gold (c) ranks 3
    const item = prepared.items.find((i) => i.id === records[0]!.itemId);
    expect(goldRankOf({ ...records[0]!, optionScores: { ...records[0]!.optionScores!, aggregate: 'sum', goldRank: null } }, item)!.rank).toBe(3);
    const bySum = await startRun({
      outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')),
      ...prepared,
      experiment: { ...prepared.experiment, ranking: { method: 'auto', continuation: 'label', aggregate: 'sum' } },
      backend,
      settings,
    });
    const { records: summed } = await readRecords(bySum.runDir);
    expect(summed[0]!.optionScores!.goldRank).toBe(3);
  });

  it('label-probability rank: one extra request continuing the prefill plus " (", options ranked by the label token, censored outside the top k', async () => {
    const file = dataset(1);
    const prepared = await prepareExperiment({ file, rounds: 2 });
    // top-k after "… is (": a −0.3, c −0.9 (gold), "The" −2; b absent → logprobs [−0.3, null, −0.9], gold rank 2
    const backend = new ScriptedBackend({ labelLogprobs: () => [{ token: 'a', logprob: -0.3 }, { token: 'c', logprob: -0.9 }, { token: 'The', logprob: -2 }] });
    const result = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend, settings });
    expect(result.manifest.settings.rankMethod).toBe('label-logprob');
    const { records } = await readRecords(result.runDir);
    expect(records).toHaveLength(3);
    for (const r of records) expect(r.optionScores).toEqual({ method: 'label-logprob', logprobs: [-0.3, null, -0.9], goldRank: 2 });
    // one label request per round, after that round's own prefill
    expect(backend.labelRequests).toHaveLength(3);
    for (const [i, req] of backend.labelRequests.entries()) expect(req.prefill).toBe(`${records[i]!.prefill} (`);
    // gold outside the top k: censored at (2 listed) + 1 = 3
    const censoring = new ScriptedBackend({ labelLogprobs: () => [{ token: 'a', logprob: -0.3 }, { token: 'b', logprob: -0.9 }] });
    const c = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, backend: censoring, settings });
    const { records: cr } = await readRecords(c.runDir);
    expect(cr[0]!.optionScores).toEqual({ method: 'label-logprob', logprobs: [-0.3, -0.9, null], goldRank: 3 });
    expect(goldRankOf(cr[0]!, prepared.items[0])).toEqual({ rank: 3, method: 'label-logprob', censored: true });
  });

  it('the experiment can force a rank method; one the backend cannot give stops the run before it starts', async () => {
    const file = dataset(1);
    const prepared = await prepareExperiment({ file, rounds: 1 });
    const both = new ScriptedBackend({
      scoreOptions: () => ({ logprobs: [-2, -1.5, -2.4], tokenLogprobs: [[-2], [-1.5], [-2.4]] }),
      labelLogprobs: () => [{ token: 'c', logprob: -0.1 }],
    });
    const forced = { ...prepared.experiment, ranking: { ...prepared.experiment.ranking, method: 'label-logprob' as const } };
    const r = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, experiment: forced, backend: both, settings });
    expect(r.manifest.settings.rankMethod).toBe('label-logprob');
    expect(r.manifest.experiment.ranking.method).toBe('label-logprob');
    expect(both.scores).toHaveLength(0);
    const approx = { ...prepared.experiment, ranking: { ...prepared.experiment.ranking, method: 'approximate' as const } };
    const a = await startRun({ outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')), ...prepared, experiment: approx, backend: both, settings });
    expect((await readRecords(a.runDir)).records[0]!.optionScores).toBeUndefined();
    const exact = { ...prepared.experiment, ranking: { ...prepared.experiment.ranking, method: 'exact' as const } };
    const out = mkdtempSync(path.join(tmpdir(), 'sclab-out-'));
    await expect(startRun({ outDir: out, ...prepared, experiment: exact, backend: new ScriptedBackend(), settings })).rejects.toThrow(/ranking\.method exact: .* cannot rank this way/);
    expect(readdirSync(out)).toEqual([]);
    await expect(startRun({ outDir: out, ...prepared, experiment: approx, backend: new ScriptedBackend(), settings })).rejects.toThrow(/ranking\.method approximate: .* no top-k/);
  });

  it('runs extensions around each round (retried like requests) and snapshots the items in the run folder', async () => {
    const file = dataset(2);
    const prepared = await prepareExperiment({ file, rounds: 2 });
    const backend = new ScriptedBackend({ reply: () => ' (c) Unknown' });
    let probeCalls = 0;
    const seenInputs: number[] = [];
    let seenModel = '';
    const extensions: RoundExtension[] = [
      {
        name: 'probe',
        async beforeChat(ctx) {
          if (probeCalls++ === 0) throw new SclabError('server', 'HTTP 503', { retryable: true });
          seenInputs.push(ctx.messages.length);
          return { probes: { bias: { module: 'residual', position: 'last', layers: [0, 1], cosine: [0.01, ctx.round / 10] } } };
        },
      },
      {
        name: 'length',
        async afterChat(ctx) {
          return { scores: { length: { value: ctx.response.length, scorer: 'length', version: '1' } } };
        },
      },
    ];
    const result = await startRun({
      outDir: mkdtempSync(path.join(tmpdir(), 'sclab-out-')),
      ...prepared,
      backend,
      settings,
      // built after connecting, from what the backend says it serves
      extensions: async (description) => {
        seenModel = description.model;
        return extensions;
      },
    });
    expect(result.status).toBe('completed');
    expect(seenModel).toBe('scripted');
    const { records } = await readRecords(result.runDir);
    expect(records).toHaveLength(6);
    for (const r of records) {
      expect(r.probes?.bias?.cosine).toEqual([0.01, r.round / 10]);
      expect(r.scores?.length).toEqual({ value: ' (c) Unknown'.length, scorer: 'length', version: '1' });
    }
    expect(records.reduce((n, r) => n + r.attempts - 1, 0)).toBe(1);
    // probes see the round input without the answer: 1 message in round 0, 3 in round 1
    expect(seenInputs.sort()).toEqual([1, 1, 1, 1, 3, 3]);
    const items = await readItems(result.runDir);
    expect(items.map((i) => i.id)).toEqual(['q0', 'q1']);
    expect(items[0]!.choices).toEqual(['Ann', 'Bob', 'Unknown']);
  });

  it('a probe or scorer that cannot be built fails the run before any run folder exists', async () => {
    const file = dataset(1);
    const prepared = await prepareExperiment({ file, rounds: 1 });
    const out = mkdtempSync(path.join(tmpdir(), 'sclab-out-'));
    const failing = startRun({
      outDir: out,
      ...prepared,
      backend: new ScriptedBackend(),
      settings,
      extensions: async () => {
        throw new SclabError('config', 'bias.probe.json: no such file');
      },
    });
    await expect(failing).rejects.toMatchObject({ code: 'config' });
    expect(readdirSync(out)).toEqual([]);
  });

  it('stops the run when a record cannot be written, and counts only lines that reached the store', async () => {
    const file = dataset(4);
    const prepared = await prepareExperiment({ file, rounds: 2 });
    const backend = new ScriptedBackend();
    const description = await backend.connect();
    let appended = 0;
    const progress: number[] = [];
    const run = executeRun({
      experiment: prepared.experiment,
      items: prepared.items,
      backend,
      description,
      concurrency: 2,
      requestTimeoutMs: 5000,
      retry: settings.retry,
      append: async () => {
        if (++appended === 3) throw new SclabError('io', 'ENOSPC: no space left on device');
      },
      onProgress: (p) => progress.push(p.recorded),
    });
    await expect(run).rejects.toMatchObject({ code: 'io', message: expect.stringContaining('ENOSPC') });
    expect(Math.max(...progress)).toBeLessThan(appended);
  });
});
