// Issue 18: a run keeps within a server's limits. Against the local test server with limits of its own; only counts
// are asserted (requests in flight, 429 answers, error records), never timings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { prepareExperiment } from '../../src/core/runner/prepare';
import { startRun, type RunSettings } from '../../src/core/runner/run';
import type { RunProgress } from '../../src/core/runner/execute';
import { readRecords } from '../../src/core/runner/store';
import { startFakeOpenAIServer, type FakeServer, type FakeServerOptions } from '../support/fake-openai-server';

function dataset(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-limits-'));
  const file = path.join(dir, 'items.jsonl');
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `q${i}`, context: `Two colleagues, case ${i}, met.`, question: 'Who was late?', choices: ['The first', 'The second', 'Unknown'], answer: 2 }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(serverOpts: FakeServerOptions, items: number, rounds: number, settings: Partial<RunSettings>) {
  server = await startFakeOpenAIServer(serverOpts);
  const prepared = await prepareExperiment({ file: dataset(items), rounds });
  const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake', requestTimeoutMs: 20_000 });
  let connected = 0;
  const progress: RunProgress[] = [];
  const result = await startRun({
    outDir: mkdtempSync(path.join(tmpdir(), 'sclab-limits-out-')),
    ...prepared,
    backend,
    settings: { concurrency: 4, requestTimeoutMs: 20_000, cacheDir: null, ...settings },
    onStart: () => (connected = server!.requests.length),
    onProgress: (p) => progress.push(p),
  });
  await backend.close();
  const { records } = await readRecords(result.runDir);
  return { result, records, runRequests: server.requests.length - connected, progress };
}

describe('request limits of a run', () => {
  it('--concurrency bounds requests in flight, not chains: 4 means at most 4, option scoring included', async () => {
    const { result, records } = await run({ latencyMs: 5 }, 12, 1, { concurrency: 4 });
    expect(result.status).toBe('completed');
    // each round is a chat request and three option-scoring requests: 12 in flight before this issue
    expect(records[0]!.requests).toHaveLength(4);
    expect(server!.limitStats.peakInFlight).toBeLessThanOrEqual(4);
    expect(server!.limitStats.peakInFlight).toBeGreaterThanOrEqual(2);
  });

  it('--concurrency 64 against a server that allows 8 in flight: at most 2 % of requests answered 429, no error records', async () => {
    const { result, records, runRequests, progress } = await run({ latencyMs: 5, limits: { maxInFlight: 8, retryAfterMs: 20 } }, 150, 2, { concurrency: 64 });
    expect(result.status).toBe('completed');
    expect(records).toHaveLength(450);
    expect(records.filter((r) => r.error)).toEqual([]);
    const refused = server!.limitStats.refused;
    console.log(`limits test: ${refused} of ${runRequests} requests answered 429 (${((100 * refused) / runRequests).toFixed(2)} %), peak ${server!.limitStats.peakInFlight} in flight`);
    expect(refused / runRequests).toBeLessThanOrEqual(0.02);
    // the limit over time and the 429 count are in the manifest's notes; the progress carried the request figures
    const note = result.manifest.backend.notes.find((n) => n.startsWith('requests:'));
    expect(note).toMatch(new RegExp(`^requests: ${runRequests} sent, ${refused} answered 429; concurrency 64 \\(adaptive\\); in-flight limit over time`));
    expect(progress.at(-1)?.requests?.limit).toBeGreaterThanOrEqual(1);
    expect(Math.max(...progress.map((p) => p.requests?.inFlight ?? 0))).toBeGreaterThan(0);
  });
});
