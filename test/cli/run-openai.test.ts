import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type Fault, type FakeServer } from '../support/fake-openai-server';
import { runCli } from '../support/cli';

function dataset(n: number): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-cli-'));
  const file = path.join(dir, 'items.jsonl');
  const rows = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `q${i}`, context: `Context number ${i}.`, question: 'Who was late?', choices: ['Ann', 'Bob', 'Unknown'], answer: 2 }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
  return { dir, file };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('sclab run against an OpenAI-compatible server', () => {
  it('finishes every planned line through 429 with retry-after, 500, 503, resets, malformed bodies and a hung request', async () => {
    const faultsAt = new Map<number, Fault>();
    const plan: Fault[] = [
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'malformed' },
      { kind: 'hang' },
      { kind: 'status', status: 429, retryAfterMs: '50' },
    ];
    let chatIndex = 0;
    server = await startFakeOpenAIServer({
      latencyMs: 5,
      faults: ({ path: p, body }) => {
        if (!p.endsWith('/chat/completions') || (body?.max_tokens ?? 0) <= 1) return undefined;
        const i = chatIndex++;
        if (i % 3 === 1 && plan.length > 0) {
          const f = plan.shift()!;
          faultsAt.set(i, f);
          return f;
        }
        return undefined;
      },
    });
    const { dir, file } = dataset(6);
    const out = path.join(dir, 'runs');
    const res = await runCli(['run', file, '--base-url', server.url, '--model', 'fake', '--rounds', '2', '--concurrency', '3', '--request-timeout', '1', '--out', out, '--json', '--no-cache']);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout);
    expect(json.status).toBe('completed');
    expect(json.counts).toMatchObject({ planned: 18, recorded: 18, errors: 0 });
    expect(faultsAt.size).toBe(7);
    const records = readFileSync(path.join(json.runDir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(18);
    // every injected fault cost exactly one extra attempt of some record
    expect(records.reduce((n, r) => n + r.attempts - 1, 0)).toBe(7);
    const manifest = JSON.parse(readFileSync(path.join(json.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('completed');
    expect(manifest.backend.baseUrl).toBe(server.url);
    expect(manifest.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records an item that keeps failing as an error and goes on; report shows it', async () => {
    server = await startFakeOpenAIServer({
      faults: ({ path: p, body }) =>
        p.endsWith('/chat/completions') && JSON.stringify(body?.messages ?? '').includes('Context number 1.') && (body?.max_tokens ?? 0) > 1
          ? { kind: 'status', status: 400, body: JSON.stringify({ error: { message: 'prompt too long' } }) }
          : undefined,
    });
    const { dir, file } = dataset(3);
    const res = await runCli(['run', file, '--base-url', server.url, '--model', 'fake', '--rounds', '2', '--out', path.join(dir, 'runs'), '--json']);
    const json = JSON.parse(res.stdout);
    expect(json.status).toBe('completed');
    expect(json.counts).toMatchObject({ planned: 9, recorded: 9, errors: 3 });
    const report = await runCli(['report', json.runDir, '--json']);
    const r = JSON.parse(report.stdout);
    expect(r.errorsByCode).toEqual({ bad_request: 2, skipped: 1 });
    const text = await runCli(['report', json.runDir]);
    expect(text.stdout).toMatch(/baseline\s+0\s+3\s+1\s/);
    expect(text.stdout).toMatch(/self-correct\s+1\s+3\s+1\s/);
  });

  it('never writes the API key anywhere: run folder, cache, stdout, stderr', async () => {
    const canary = 'sk-canary-7f3a9c1e5b2d4f6a8c0e';
    server = await startFakeOpenAIServer({ requireKey: canary, leakKeyInErrors: true, faults: ({ index }) => (index === 9 ? { kind: 'status', status: 500 } : undefined) });
    const { dir, file } = dataset(2);
    const ok = await runCli(['run', file, '--base-url', server.url, '--model', 'fake', '--out', path.join(dir, 'runs'), '--json'], { env: { OPENAI_API_KEY: canary } });
    expect(JSON.parse(ok.stdout).status).toBe('completed');
    expect(server.requests.some((r) => r.headers.authorization === `Bearer ${canary}`)).toBe(true);
    // a wrong key: the server echoes what it got in its error body; we must not repeat it
    const bad = await runCli(['run', file, '--base-url', server.url, '--model', 'fake', '--out', path.join(dir, 'runs2')], { env: { MY_KEY: `${canary}-wrong` }, });
    const viaEnvName = await runCli(['run', file, '--base-url', server.url, '--model', 'fake', '--api-key-env', 'MY_KEY', '--out', path.join(dir, 'runs3')], { env: { MY_KEY: `${canary}-wrong` } });
    expect(viaEnvName.code).not.toBe(0);
    expect(viaEnvName.stderr).toMatch(/auth/);
    for (const r of [ok, bad, viaEnvName]) {
      expect(r.stdout + r.stderr).not.toContain(canary);
    }
    for (const f of allFiles(dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(canary);
    for (const f of allFiles(path.join(dir, 'cache'))) expect(readFileSync(f, 'utf8'), f).not.toContain(canary);
  });

  it('credentials in --base-url (userinfo, ?api-key=) reach no file: manifest experiment included; resume takes the same URL again', async () => {
    server = await startFakeOpenAIServer({});
    const { dir, file } = dataset(2);
    const u = new URL(server.url);
    const withCreds = `${u.protocol}//alice:pw-9c8b7a6d5e4f@${u.host}${u.pathname}?api-key=qs-3e4f5a6b7c8d9e0f&tenant=lab`;
    const res = await runCli(['run', file, '--base-url', withCreds, '--model', 'fake', '--out', path.join(dir, 'runs'), '--json']);
    const json = JSON.parse(res.stdout);
    expect(json.status).toBe('completed');
    const manifest = JSON.parse(readFileSync(path.join(json.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.experiment.backend.baseUrl).toBe(`${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}?tenant=lab`);
    for (const f of allFiles(dir)) {
      const text = readFileSync(f, 'utf8');
      for (const secret of ['pw-9c8b7a6d5e4f', 'qs-3e4f5a6b7c8d9e0f', 'alice:']) expect(text, f).not.toContain(secret);
    }
    expect(res.stdout + res.stderr).not.toContain('pw-9c8b7a6d5e4f');
    const resumed = await runCli(['run', '--resume', json.runDir, '--base-url', withCreds, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const other = await runCli(['run', '--resume', json.runDir, '--base-url', 'http://127.0.0.1:1/v1']);
    expect(other.stderr).toMatch(/--base-url cannot change on --resume/);
  });

  it('validate reports file:line:column and exits 1; bad flags exit 1 with a message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-cli-'));
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"question": "ok?", "choices": ["a", "b"], "answer": 1}\n{"question": "x", "choices": ["a","b"], "answer": 5}\n{"question": \n');
    const v = await runCli(['validate', bad]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`${bad}:2:`);
    expect(v.stdout).toContain(`${bad}:3:`);
    const vj = await runCli(['validate', bad, '--json']);
    expect(JSON.parse(vj.stdout).ok).toBe(false);
    const flags = await runCli(['run', bad, '--rounds', 'zero']);
    expect(flags.code).toBe(1);
    expect(flags.stderr).toMatch(/--rounds must be a positive integer/);
    const run = await runCli(['run', bad, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--out', path.join(dir, 'runs')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bad\.jsonl:2:/);
    expect(() => readdirSync(path.join(dir, 'runs'))).toThrow(); // nothing half-written
  });
});

describe('which key goes where: the user decides, not the experiment file', () => {
  function experimentFile(dir: string, backend: string): string {
    const { file } = dataset(2);
    const exp = path.join(dir, 'evil.sclab.yaml');
    writeFileSync(exp, `schema: sclab.experiment/1\nname: evil\ndataset:\n  path: ${JSON.stringify(file)}\ntask: mcq\nconditions:\n  - name: baseline\n    kind: baseline\n    rounds: 1\n    turns:\n      - user: "{question} {choices}"\n${backend}`);
    return exp;
  }

  it('a file that names AWS_SECRET_ACCESS_KEY for its own server stops the run before any request; --allow-key-env consents', async () => {
    server = await startFakeOpenAIServer({});
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-keys-'));
    const exp = experimentFile(dir, `backend:\n  kind: openai\n  model: fake\n  baseUrl: ${server.url}\n  apiKeyEnv: AWS_SECRET_ACCESS_KEY\n`);
    const env = { AWS_SECRET_ACCESS_KEY: 'aws-canary-1a2b3c4d5e6f7a8b' };
    const refused = await runCli(['run', exp, '--out', path.join(dir, 'runs')], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`AWS_SECRET_ACCESS_KEY as the API key of the backend to ${new URL(server.url).host}`);
    expect(refused.stderr).toContain('--allow-key-env AWS_SECRET_ACCESS_KEY');
    expect(server.requests).toHaveLength(0);
    const allowed = await runCli(['run', exp, '--out', path.join(dir, 'runs'), '--allow-key-env', 'AWS_SECRET_ACCESS_KEY', '--json'], { env });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(server.requests.some((r) => r.headers.authorization === `Bearer ${env.AWS_SECRET_ACCESS_KEY}`)).toBe(true);
  });

  it('a scorer entry cannot pick a variable either; the default OPENAI_API_KEY going to a URL from the file is announced with its host', async () => {
    server = await startFakeOpenAIServer({});
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-keys-'));
    const scorerExp = experimentFile(dir, `backend:\n  kind: openai\n  model: fake\n  baseUrl: ${server.url}\nscorers:\n  - name: tox\n    kind: http\n    url: http://127.0.0.1:9/score\n    apiKeyEnv: GITHUB_TOKEN\n`);
    const refused = await runCli(['run', scorerExp, '--out', path.join(dir, 'runs')], { env: { GITHUB_TOKEN: 'ghp-canary' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('GITHUB_TOKEN as the API key of scorer "tox" to 127.0.0.1:9');
    const plain = experimentFile(dir, `backend:\n  kind: openai\n  model: fake\n  baseUrl: ${server.url}\n`);
    const announced = await runCli(['run', plain, '--out', path.join(dir, 'runs2'), '--quiet'], { env: { OPENAI_API_KEY: 'sk-mine' } });
    expect(announced.code, announced.stderr).toBe(0);
    expect(announced.stderr).toContain(`the backend sends OPENAI_API_KEY to ${new URL(server.url).host}, a URL from the experiment file`);
  });
});
