// bench:runner — 1500 items × 4 rounds at concurrency 50 against a local OpenAI-compatible server that answers
// after 50 ms. The ideal schedule is ceil(1500 / 50) × 4 × 50 ms = 6.0 s; the goal is wall time ≤ 1.10 × ideal.
// Second case (BENCH_CASE=limited runs it alone): a server that allows 8 requests in flight and answers 429 with
// retry-after beyond them; the adaptive limit (--concurrency 64) against a fixed limit set to the true capacity (8).
// Goal: adaptive ≤ 1.10 × fixed.
// The server runs in its own process so its CPU does not count against the runner's event loop. As the reference,
// the same request pattern is first sent by a bare node:http client that does nothing else: its ratio is the
// floor this test rig allows on this machine (loopback, the server's own timers and CPU).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { createOpenAIBackend } from '../src/core/backends/openai';
import { prepareExperiment } from '../src/core/runner/prepare';
import { startRun } from '../src/core/runner/run';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 1500);
const ROUNDS = 4;
const CONCURRENCY = 50;
const LATENCY_MS = 50;

const LIMITED_ITEMS = Number(process.env.BENCH_LIMITED_ITEMS ?? 400);
const CAPACITY = 8;

async function startServer(extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'fake-openai-server.js'), '--latency', String(LATENCY_MS), '--no-echo', '--no-logprobs', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

/** utime + stime of a process from /proc (Linux); null elsewhere */
function processCpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** The reference: ITEMS chains of ROUNDS sequential requests, CONCURRENCY chains in flight, nothing else. */
async function bareClient(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const target = new URL(`${url}/chat/completions`);
  const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Two people met. Who was late? (a) The first (b) The second (c) Unknown.' }], max_tokens: 8 });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < ITEMS) for (let r = 0; r < ROUNDS; r++) await one();
    }),
  );
  agent.destroy();
  return performance.now() - t0;
}

function writeDataset(dir: string, n: number): string {
  const dataset = path.join(dir, `items-${n}.jsonl`);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(JSON.stringify({ id: `q${i}`, context: `Two people, number ${i}, met.`, question: 'Who was late?', choices: ['The first', 'The second', 'Unknown'], answer: 2 }));
  }
  writeFileSync(dataset, rows.join('\n') + '\n');
  return dataset;
}

/** One run of the self-correct chain; wall time from the first request to the last record on disk. */
async function timedRun(url: string, dataset: string, dir: string, settings: { concurrency: number; adaptive?: boolean }) {
  const prepared = await prepareExperiment({ file: dataset, rounds: ROUNDS });
  const experiment = { ...prepared.experiment, conditions: prepared.experiment.conditions.filter((c) => c.kind === 'self-correct') };
  const backend = createOpenAIBackend({ baseUrl: url, model: 'bench-model', requestTimeoutMs: 30_000 });
  let t0 = 0;
  let lastRecordMs = 0;
  const result = await startRun({
    outDir: path.join(dir, 'runs'),
    experiment,
    dataset: prepared.dataset,
    items: prepared.items,
    backend,
    settings: { ...settings, requestTimeoutMs: 30_000, cacheDir: null },
    onStart: () => (t0 = performance.now()),
    onProgress: (p) => {
      if (p.recorded === p.planned && lastRecordMs === 0) lastRecordMs = performance.now() - t0;
    },
  });
  await backend.close();
  const note = result.manifest.backend.notes.at(-1) ?? '';
  const refused = Number(/(\d+) answered 429/.exec(note)?.[1] ?? NaN);
  const sent = Number(/requests: (\d+) sent/.exec(note)?.[1] ?? NaN);
  return { ms: lastRecordMs || performance.now() - t0, errors: result.manifest.counts.errors, status: result.status, refused, sent };
}

async function limitedCase(dir: string): Promise<boolean> {
  const dataset = writeDataset(dir, LIMITED_ITEMS);
  const { url, child } = await startServer(['--max-in-flight', String(CAPACITY), '--retry-after-ms', String(LATENCY_MS)]);
  try {
    // alternated and repeated: the best of two of each, so a burst of load on a shared machine hits both alike
    const fixed: Array<Awaited<ReturnType<typeof timedRun>>> = [];
    const adaptive: typeof fixed = [];
    for (let k = 0; k < 2; k++) {
      fixed.push(await timedRun(url, dataset, dir, { concurrency: CAPACITY, adaptive: false }));
      adaptive.push(await timedRun(url, dataset, dir, { concurrency: 64 }));
    }
    const best = (xs: typeof fixed) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const f = best(fixed);
    const a = best(adaptive);
    const ideal = Math.ceil(LIMITED_ITEMS / CAPACITY) * ROUNDS * LATENCY_MS;
    console.log(`\nlimited server: ${CAPACITY} requests in flight (429 + retry-after ${LATENCY_MS} ms beyond), ${LIMITED_ITEMS} items × ${ROUNDS} rounds, latency ${LATENCY_MS} ms; ideal ${(ideal / 1000).toFixed(2)} s`);
    console.log(`fixed 8       ${(f.ms / 1000).toFixed(2)} s, ${f.refused} of ${f.sent} answered 429, ${f.errors} errors  (runs: ${fixed.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s)`);
    console.log(`adaptive 64   ${(a.ms / 1000).toFixed(2)} s, ${a.refused} of ${a.sent} answered 429 (${((100 * a.refused) / a.sent).toFixed(2)} %), ${a.errors} errors  (runs: ${adaptive.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s)`);
    console.log(`ratio         ${(a.ms / f.ms).toFixed(3)} × fixed at true capacity  (goal ≤ 1.10)`);
    return [...fixed, ...adaptive].every((x) => x.status === 'completed' && x.errors === 0);
  } finally {
    child.kill();
  }
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-bench-runner-'));
  if (process.env.BENCH_CASE === 'limited') {
    try {
      if (!(await limitedCase(dir))) process.exitCode = 1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const dataset = writeDataset(dir, ITEMS);
  const { url, child } = await startServer();
  try {
    const referenceMs = await bareClient(url);
    const prepared = await prepareExperiment({ file: dataset, rounds: ROUNDS });
    // the benchmark measures the self-correct chain alone: ITEMS × ROUNDS requests
    const experiment = { ...prepared.experiment, conditions: prepared.experiment.conditions.filter((c) => c.kind === 'self-correct') };
    const backend = createOpenAIBackend({ baseUrl: url, model: 'bench-model', requestTimeoutMs: 30_000 });
    let t0 = 0;
    let cpu0 = process.cpuUsage();
    let lastRecordMs = 0;
    let cpuAtLast = process.cpuUsage();
    const result = await startRun({
      outDir: path.join(dir, 'runs'),
      experiment,
      dataset: prepared.dataset,
      items: prepared.items,
      backend,
      settings: { concurrency: CONCURRENCY, requestTimeoutMs: 30_000, cacheDir: null },
      onStart: () => {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      },
      // the schedule ends with the last record on disk; the summary written after it is reported apart
      onProgress: (p) => {
        if (p.recorded === p.planned && lastRecordMs === 0) {
          lastRecordMs = performance.now() - t0;
          cpuAtLast = process.cpuUsage(cpu0);
        }
      },
    });
    const totalMs = performance.now() - t0;
    const wallMs = lastRecordMs || totalMs;
    const cpu = cpuAtLast;
    const serverCpuMs = processCpuMs(child.pid);
    await backend.close();
    const requests = ITEMS * ROUNDS;
    const idealMs = Math.ceil(ITEMS / CONCURRENCY) * ROUNDS * LATENCY_MS;
    console.log(`bench:runner  ${ITEMS} items × ${ROUNDS} rounds = ${requests} requests, concurrency ${CONCURRENCY}, server latency ${LATENCY_MS} ms`);
    console.log(`status        ${result.status}, ${result.manifest.counts.recorded} records, ${result.manifest.counts.errors} errors`);
    console.log(`ideal         ${(idealMs / 1000).toFixed(2)} s`);
    console.log(`reference     ${(referenceMs / 1000).toFixed(2)} s  = ${(referenceMs / idealMs).toFixed(3)} × ideal  (bare node:http client, same server: the rig's floor)`);
    console.log(`sclab run     ${(wallMs / 1000).toFixed(2)} s  (${(requests / (wallMs / 1000)).toFixed(0)} requests/s) = ${(wallMs / referenceMs).toFixed(3)} × reference`);
    console.log(`then summary  ${((totalMs - wallMs) / 1000).toFixed(2)} s to analyse the records and write summary.json (not part of the schedule)`);
    console.log(`client CPU    ${((cpu.user + cpu.system) / 1000 / requests).toFixed(3)} ms per request (runner + SDK + HTTP, one thread)`);
    if (serverCpuMs !== null) console.log(`server CPU    ${(serverCpuMs / requests).toFixed(3)} ms per request (the test server, its own process)`);
    console.log(`ratio         ${(wallMs / idealMs).toFixed(3)} × ideal  (goal ≤ 1.10)`);
    console.log(`load average  ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores (timings on a busy machine are not comparable)`);
    if (result.status !== 'completed' || result.manifest.counts.errors > 0) process.exitCode = 1;
    child.kill();
    if (!(await limitedCase(dir))) process.exitCode = 1;
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
