// Issue 9 §4: retries are per HTTP request. Option scoring sends one /completions request per option; when one of
// them fails, only that one is sent again. Against a server that faults on a quarter of all requests, the old
// bundle retry lost 11 of 160 records (7 %); per-request retry must lose at most 1 %.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAIBackend } from '../../src/core/backends/openai';
import { prepareExperiment } from '../../src/core/runner/prepare';
import { startRun } from '../../src/core/runner/run';
import { readRecords } from '../../src/core/runner/store';
import { startFakeOpenAIServer, type Fault, type FakeServer } from '../support/fake-openai-server';

function dataset(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-fault-'));
  const file = path.join(dir, 'items.jsonl');
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `q${i}`, context: `Two neighbours, case ${i}, argued.`, question: 'Who started it?', choices: ['The first', 'The second', 'Unknown'], answer: 2 }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

/**
 * A quarter of all requests fault (HTTP 500 or a dropped connection), decided by a hash of the request body and how
 * often that body was seen, so the same request meets the same fate whatever order concurrency gives.
 */
function quarterFaults(): { faults: (r: { path: string; body: unknown }) => Fault | undefined; arm(): void; injected(): number } {
  const seen = new Map<string, number>();
  let armed = false;
  let injected = 0;
  return {
    arm: () => (armed = true),
    injected: () => injected,
    faults: ({ path: p, body }) => {
      if (!armed || p === '/v1/models') return undefined;
      const key = `${p} ${JSON.stringify(body)}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const h = createHash('sha256').update(`${key}#${n}`).digest();
      if (h.readUInt32BE(0) / 2 ** 32 >= 0.25) return undefined;
      injected++;
      return h[4]! & 1 ? { kind: 'status', status: 500 } : { kind: 'reset' };
    },
  };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('retries per HTTP request', () => {
  it('loses at most 1 % of records when a quarter of all requests fault, and records each request\'s attempts', async () => {
    const plan = quarterFaults();
    server = await startFakeOpenAIServer({ faults: plan.faults });
    const prepared = await prepareExperiment({ file: dataset(80), rounds: 1 });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake', requestTimeoutMs: 10_000 });
    const out = mkdtempSync(path.join(tmpdir(), 'sclab-fault-out-'));
    const result = await startRun({
      outDir: out,
      ...prepared,
      backend,
      // the five attempts per request; tiny backoffs because this test counts, it does not time
      settings: { concurrency: 8, requestTimeoutMs: 10_000, cacheDir: null, retry: { maxRetries: 4, initialDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 10 } },
      onStart: () => plan.arm(),
    });
    await backend.close();
    expect(result.status).toBe('completed');
    const { records } = await readRecords(result.runDir);
    expect(records).toHaveLength(160);
    const errors = records.filter((r) => r.error);
    console.log(`fault test: ${plan.injected()} faults injected into ${server.requests.length} requests; ${errors.length} of ${records.length} records are errors`);
    expect(errors.length / records.length).toBeLessThanOrEqual(0.01);
    // every record lists its chat request and one scoring request per option, each with its own attempts
    const ok = records.filter((r) => !r.error);
    for (const r of ok) {
      expect(r.requests?.map((q) => q.request).sort()).toEqual(['POST /chat/completions', ...Array(3).fill('POST /completions (option scoring)')]);
      expect(r.attempts).toBe(1 + r.requests!.reduce((n, q) => n + q.attempts - 1, 0));
    }
    // a fault cost a retry of that one request, never of its siblings: retries equal the faults the records saw
    const retries = records.reduce((n, r) => n + (r.requests ?? []).reduce((m, q) => m + q.attempts - 1, 0), 0);
    expect(plan.injected()).toBeGreaterThan(100);
    if (errors.length === 0) expect(retries).toBe(plan.injected());
    else expect(retries).toBeLessThanOrEqual(plan.injected());
  });

  it('an error record lists the request that ran out of attempts, and the ones that had succeeded', async () => {
    // option (b)'s scoring request of item q1 always fails; everything else answers
    server = await startFakeOpenAIServer({
      faults: ({ path: p, body }) =>
        p === '/v1/completions' && typeof body?.prompt === 'string' && body.prompt.includes('case 1,') && body.prompt.endsWith('(b)') ? { kind: 'status', status: 500 } : undefined,
    });
    const prepared = await prepareExperiment({ file: dataset(2), rounds: 1 });
    const backend = createOpenAIBackend({ baseUrl: server.url, model: 'fake', requestTimeoutMs: 10_000 });
    const result = await startRun({
      outDir: mkdtempSync(path.join(tmpdir(), 'sclab-fault-out-')),
      ...prepared,
      backend,
      settings: { concurrency: 1, requestTimeoutMs: 10_000, cacheDir: null, retry: { maxRetries: 4, initialDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 10 } },
    });
    await backend.close();
    const { records } = await readRecords(result.runDir);
    const failed = records.filter((r) => r.error);
    expect(failed.map((r) => `${r.itemId}/${r.condition}`).sort()).toEqual(['q1/baseline', 'q1/self-correct']);
    for (const r of failed) {
      expect(r.error?.code).toBe('server');
      expect(r.requests).toContainEqual({ request: 'POST /chat/completions', attempts: 1 });
      expect(r.requests).toContainEqual({ request: 'POST /completions (option scoring)', attempts: 5 });
      expect(r.attempts).toBeGreaterThanOrEqual(5);
    }
    // the failing option's request went five times per round, and no sibling was sent again because of it
    const scoring = server.requests.filter((q) => q.path === '/v1/completions' && String(q.body?.prompt).includes('case 1,'));
    expect(scoring.filter((q) => String(q.body.prompt).endsWith('(b)'))).toHaveLength(10);
    expect(scoring.filter((q) => !String(q.body.prompt).endsWith('(b)')).length).toBeLessThanOrEqual(4);
  });
});
