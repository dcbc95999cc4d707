import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeServer } from '../support/fake-openai-server';
import { CLI, runCli } from '../support/cli';

let server: FakeServer | undefined;
afterAll(async () => server?.close());

function generationRequests(s: FakeServer): number {
  return s.requests.filter((r) => r.path.endsWith('/chat/completions') && (r.body?.max_tokens ?? 0) > 1).length;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('kill and resume', () => {
  it('SIGKILL in the middle, then --resume: every planned line exactly once, recorded lines never asked again', async () => {
    server = await startFakeOpenAIServer({ latencyMs: 15 });
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-kill-'));
    const file = path.join(dir, 'items.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `q${i}`, context: `Case ${i}.`, question: 'Who?', choices: ['A', 'B', 'Unknown'], answer: 2 })).join('\n') + '\n',
    );
    const out = path.join(dir, 'runs');
    const child = spawn(process.execPath, [CLI, 'run', file, '--base-url', server.url, '--model', 'fake', '--rounds', '3', '--concurrency', '4', '--out', out, '--no-cache', '--quiet'], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let records = '';
    await waitFor(() => {
      const runs = existsSync(out) ? readdirSync(out) : [];
      if (runs.length === 0) return false;
      records = path.join(out, runs[0]!, 'records.jsonl');
      return existsSync(records) && readFileSync(records, 'utf8').split('\n').length > 40;
    }, 30_000);
    child.kill('SIGKILL');
    await exited;
    const runDir = path.dirname(records);
    const manifest = JSON.parse(readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('running'); // killed: nobody could say otherwise
    // a crash mid-write leaves a torn last line; make sure there is one
    const whole = readFileSync(records, 'utf8').split('\n').filter((l) => l.endsWith('}'));
    appendFileSync(records, '{"itemId":"q29","condition":"basel');
    const before = whole.length;
    expect(before).toBeGreaterThanOrEqual(40);
    expect(before).toBeLessThan(120);

    const asked = generationRequests(server);
    const res = await runCli(['run', '--resume', runDir, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ status: 'completed', counts: { planned: 120, recorded: 120, errors: 0 } });
    const lines = readFileSync(records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const keys = lines.map((r) => `${r.itemId}/${r.condition}/${r.round}`);
    expect(keys).toHaveLength(120);
    expect(new Set(keys).size).toBe(120);
    expect(generationRequests(server) - asked).toBe(120 - before);
    const after = JSON.parse(readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(after.status).toBe('completed');
    expect(after.resumes).toHaveLength(1);
    expect(existsSync(path.join(runDir, 'summary.json'))).toBe(true);
    // a completed run resumes to itself without a single request
    const again = await runCli(['run', '--resume', runDir, '--json']);
    expect(JSON.parse(again.stdout).status).toBe('completed');
    expect(generationRequests(server) - asked).toBe(120 - before);
  });
});
