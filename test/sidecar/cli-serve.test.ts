// `sclab serve` as a process (the built CLI): prints its URL, guards with a token from the environment, and
// serves a `sclab run --backend sidecar` whose manifest records the sidecar and the identity.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from '../support/cli';
import { STORIES_SPEC } from './fixtures';

const TOKEN = 'serve-cli-token-81f2';
let child: ChildProcess;
let url = '';
let stderr = '';

beforeAll(async () => {
  child = spawn(process.execPath, [CLI, 'serve', '--model', STORIES_SPEC.bin, '--port', '0', '--token-env', 'SERVE_TOKEN', '--log'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SERVE_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sclab serve exited (${code}): ${stderr}`)));
  });
  url = (JSON.parse(first) as { url: string }).url;
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
});

describe('sclab serve', () => {
  it('serves the sidecar protocol behind the token and never prints the token', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/v1/info`)).status).toBe(401);
    const info = (await (await fetch(`${url}/v1/info`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { model: string; protocol: string };
    expect(info).toMatchObject({ model: 'stories260K', protocol: 'sclab.sidecar/1' });
    expect(stderr).toContain(`OpenAI-compatible base URL:  ${url}/v1`);
    expect(stderr).toMatch(/GET \/v1\/info 401/);
    expect(stderr).not.toContain(TOKEN);
  });

  it('refuses a non-loopback address without a token', async () => {
    const r = await runCli(['serve', '--model', STORIES_SPEC.bin, '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--host 0.0.0.0 exposes the model');
  });

  it('sclab run --backend sidecar runs against it and records both servers in the manifest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-sidecar-run-'));
    const file = path.join(dir, 'items.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'q0', context: 'Ann and Bob met.', question: 'Who was late?', choices: ['Ann', 'Bob', 'Unknown'], answer: 2 })}\n`);
    const out = path.join(dir, 'runs');
    const env = { SCLAB_SIDECAR_URL: url, SCLAB_SIDECAR_TOKEN: TOKEN, SERVE_KEY: TOKEN };
    const r = await runCli(['run', file, '--backend', 'sidecar', '--base-url', `${url}/v1`, '--api-key-env', 'SERVE_KEY', '--rounds', '1', '--out', out, '--json', '--no-cache', '--quiet'], { env });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const [runDir] = readdirSync(out);
    const manifest = JSON.parse(readFileSync(path.join(out, runDir!, 'manifest.json'), 'utf8')) as { backend: { kind: string; model: string; identity?: { name: string }; capabilities: Record<string, boolean>; notes: string[] } };
    expect(manifest.backend).toMatchObject({ kind: 'sidecar', model: 'stories260K', identity: { name: 'stories260K' } });
    expect(manifest.backend.capabilities).toMatchObject({ chat: true, optionLogprobs: true, hiddenStates: true, probeScores: true });
    expect(manifest.backend.notes.join('\n')).toContain(`sidecar ${url}`);
    expect(JSON.stringify(manifest)).not.toContain(TOKEN);
  }, 60_000);
});
