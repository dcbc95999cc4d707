// RunManager's vscode-free half (src/extension/run-requests.ts): the requests it hands the core's run session, the
// backend a resumed run maps to, the registry of active runs, and a start → cancel → resume round trip through the
// real session against a local OpenAI-compatible server, wired exactly as RunManager wires it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { publicUrlOf } from '../../src/core/runner/public-experiment';
import { backendRefFromManifest, runSession } from '../../src/core/runner/session';
import { readManifest, readRecords } from '../../src/core/runner/store';
import {
  ActiveRuns,
  backendForRun,
  extensionSessionHost,
  progressMessage,
  resumeRequest,
  startRequest,
  type ActiveRun,
  type OpenBackend,
} from '../../src/extension/run-requests';
import type { BackendSetting } from '../../src/extension/settings';
import { startFakeOpenAIServer, type FakeServer } from '../support/fake-openai-server';

const SETTINGS = { concurrency: 3, defaultRounds: 2, requestTimeoutMs: 9_000 };
const LOCAL: BackendSetting = { name: 'local vllm', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'fake', maxRpm: 600 };
const refuse: OpenBackend = () => Promise.reject(new Error('not opened in this test'));

describe('startRequest', () => {
  it('gives a dataset sclab.defaultRounds, keeps an experiment file\'s own rounds, and lets the caller choose', () => {
    const ctx = { outDir: '/w/.sclab/runs', backend: LOCAL, settings: SETTINGS, open: refuse };
    expect(startRequest({ file: '/w/items.jsonl' }, ctx).rounds).toBe(2);
    expect(startRequest({ file: '/w/exp.sclab.yaml' }, ctx).rounds).toBeUndefined();
    expect(startRequest({ file: '/w/exp.sclab.yml', rounds: 4 }, ctx).rounds).toBe(4);
    const r = startRequest({ file: '/w/items.jsonl', preset: 'paper-bbq', limit: 5 }, ctx);
    expect(r).toMatchObject({ preset: 'paper-bbq', limit: 5, outDir: '/w/.sclab/runs', concurrency: 3, requestTimeoutMs: 9_000 });
    // the cache folder is the session's one rule, not the host's
    expect(r.cacheDir).toBeUndefined();
  });

  it('records the configured backend without its name or key, limits included', () => {
    const r = startRequest({ file: '/w/items.jsonl' }, { outDir: '/w/runs', backend: LOCAL, settings: SETTINGS, open: refuse });
    const chosen = r.backend({} as never);
    expect(chosen.ref).toEqual({ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'fake', maxRpm: 600 });
    expect(chosen.label).toBe('local vllm');
  });
});

describe('resumeRequest', () => {
  it('takes concurrency and limits from the current settings and keeps the run\'s request deadline', () => {
    const r = resumeRequest('/w/runs/a', { backend: { ...LOCAL, maxTpm: 1000 }, settings: SETTINGS, open: refuse });
    expect(r).toMatchObject({ runDir: '/w/runs/a', concurrency: 3, maxRpm: 600, maxTpm: 1000 });
    expect(r.requestTimeoutMs).toBeUndefined();
    expect(r.cacheDir).toBeUndefined();
  });
});

describe('backendForRun', () => {
  const configured: BackendSetting[] = [
    { name: 'other', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'another' },
    LOCAL,
  ];
  it('finds the configured backend with the same kind, model and URL', () => {
    expect(backendForRun({ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'fake' }, configured, publicUrlOf)).toBe(LOCAL);
  });
  it('matches a configured URL with credentials against the public URL the manifest keeps', () => {
    const withUser: BackendSetting = { name: 'gateway', kind: 'openai', baseUrl: 'http://user:pw@127.0.0.1:9/v1', model: 'fake' };
    expect(backendForRun({ kind: 'openai', baseUrl: publicUrlOf(withUser.baseUrl!), model: 'fake' }, [withUser], publicUrlOf)).toBe(withUser);
  });
  it('rebuilds an embedded backend from its model spec when none is configured', () => {
    expect(backendForRun({ kind: 'embedded', model: 'stories260K' }, configured, publicUrlOf)).toEqual({ name: 'embedded (stories260K)', kind: 'embedded', model: 'stories260K' });
  });
  it('says which server is missing from sclab.backends', () => {
    expect(() => backendForRun({ kind: 'openai', baseUrl: 'http://elsewhere/v1', model: 'fake' }, configured, publicUrlOf)).toThrow(/no backend in sclab\.backends matches this run's openai backend \(http:\/\/elsewhere\/v1 fake\)/);
  });
});

describe('ActiveRuns', () => {
  it('registers runs at once, finds them by folder, cancels one or all, and reports the count', () => {
    const counts: number[] = [];
    const runs = new ActiveRuns((n) => counts.push(n));
    const a = runs.begin('resume a', '/w/runs/a');
    const b = runs.begin('items.jsonl on local');
    expect(runs.isActive('/w/runs/a/')).toBe(true);
    expect(runs.isActive('/w/runs/b')).toBe(false);
    b.runDir = '/w/runs/b';
    expect(runs.cancel('/w/runs/b')).toBe(1);
    expect([a.controller.signal.aborted, b.controller.signal.aborted]).toEqual([false, true]);
    expect(runs.cancel()).toBe(2);
    runs.end(a);
    runs.end(b);
    expect(runs.list()).toEqual([]);
    expect(counts).toEqual([1, 2, 1, 0]);
  });
});

describe('progressMessage', () => {
  it('says records, errors and the request window', () => {
    expect(progressMessage({ planned: 10, recorded: 4, errors: 0, cached: 0 })).toBe('4/10 records');
    expect(progressMessage({ planned: 10, recorded: 4, errors: 2, cached: 0, requests: { inFlight: 3, limit: 4, rpm: 120 } } as never)).toBe('4/10 records, 2 errors · in flight 3/4, 120 rpm');
  });
});

describe('RunManager wiring through the core run session', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function dataset(n: number): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-ext-run-'));
    const rows = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, context: `Case ${i}.`, question: 'Who?', choices: ['A one', 'B one', 'Unknown'], answer: 2 }));
    writeFileSync(path.join(dir, 'items.jsonl'), rows.join('\n') + '\n');
    return path.join(dir, 'items.jsonl');
  }

  it('starts, is cancelled, and resumes to completion with the backend found again from the manifest', async () => {
    server = await startFakeOpenAIServer({ requireKey: 'sk-test' });
    const backend: BackendSetting = { name: 'fake', kind: 'openai', baseUrl: server.url, model: 'fake' };
    const keysAsked: string[] = [];
    const open: OpenBackend = async (b, opts) => {
      keysAsked.push(b.name);
      return createOpenAIBackend({ baseUrl: b.baseUrl!, model: b.model!, apiKey: 'sk-test', requestTimeoutMs: opts.requestTimeoutMs });
    };
    const file = dataset(6);
    const outDir = path.join(path.dirname(file), '.sclab', 'runs');
    const logs: string[] = [];
    const stages: string[] = [];
    const summaries: string[] = [];
    const hostFor = (run: ActiveRun, changed: () => void) =>
      extensionSessionHost(run, {
        secrets: { get: async () => undefined },
        baseDir: path.dirname(file),
        log: { info: (m) => logs.push(m), warn: (m) => logs.push(`warn: ${m}`) },
        report: (m) => stages.push(m),
        changed,
        afterComplete: async (runDir) => void summaries.push(runDir),
      });

    const runs = new ActiveRuns(() => undefined);
    const first = runs.begin('items.jsonl on fake');
    const cancelled = await runSession(
      { start: startRequest({ file }, { outDir, backend, settings: { ...SETTINGS, concurrency: 1 }, open }) },
      hostFor(first, () => {
        if ((first.progress?.recorded ?? 0) >= 2) first.controller.abort();
      }),
    );
    expect(cancelled.status).toBe('cancelled');
    expect(first.runDir).toBe(cancelled.runDir);
    expect(logs).toContain(`run started: ${cancelled.runDir}`);
    expect(stages).toEqual(['reading the dataset', 'loading fake']);
    const partial = (await readRecords(cancelled.runDir)).records.length;
    expect(partial).toBeGreaterThanOrEqual(2);
    expect(partial).toBeLessThan(cancelled.manifest.counts.planned);

    const manifest = await readManifest(cancelled.runDir);
    const found = backendForRun(backendRefFromManifest(manifest), [{ name: 'unrelated', kind: 'embedded' }, backend], publicUrlOf);
    expect(found).toBe(backend);
    const second = runs.begin('resume', cancelled.runDir);
    const done = await runSession({ resume: resumeRequest(cancelled.runDir, { backend: found, settings: SETTINGS, open }) }, hostFor(second, () => undefined));
    expect(done.status).toBe('completed');
    expect(done.manifest.counts.recorded).toBe(done.manifest.counts.planned);
    expect(done.manifest.settings.concurrency).toBe(3);
    // the run kept its deadline; the response cache is the one beside the runs folder
    expect(done.manifest.settings.requestTimeoutMs).toBe(9_000);
    expect(keysAsked).toEqual(['fake', 'fake']);
    // summary.json is the host's to write, once the run has completed (not after the cancelled first part)
    expect(summaries).toEqual([done.runDir]);
    const records = (await readRecords(done.runDir)).records;
    expect(new Set(records.map((r) => `${r.itemId}/${r.condition}/${r.round}`)).size).toBe(records.length);
  });
});
