// sclab run --max-rpm / --max-tpm and the experiment file's backend limits reach the run: its manifest settings,
// its notes (limit over time, 429 count) and the progress line. Counts only, no timings.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeServer } from '../support/fake-openai-server';
import { runCli } from '../support/cli';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function dataset(dir: string, n: number): string {
  const file = path.join(dir, 'items.jsonl');
  const rows = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, context: `Case ${i}.`, question: 'Who?', choices: ['Ann', 'Bob', 'Unknown'], answer: 2 }));
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

describe('sclab run with request limits', () => {
  it('--max-rpm / --max-tpm go into the manifest; the notes carry the limit over time; progress shows in flight and rpm', async () => {
    server = await startFakeOpenAIServer({ limits: { maxInFlight: 2, retryAfterMs: 10 } });
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-cli-limits-'));
    const res = await runCli(['run', dataset(dir, 4), '--base-url', server.url, '--model', 'fake', '--rounds', '1', '--concurrency', '8', '--max-rpm', '60000', '--max-tpm', '10000000', '--out', path.join(dir, 'runs'), '--json', '--no-cache']);
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout);
    expect(json.counts).toMatchObject({ planned: 8, recorded: 8, errors: 0 });
    const manifest = JSON.parse(readFileSync(path.join(json.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.settings).toMatchObject({ concurrency: 8, maxRpm: 60000, maxTpm: 10000000 });
    expect(manifest.backend.notes.at(-1)).toMatch(/^requests: \d+ sent, \d+ answered 429; concurrency 8 \(adaptive\), max 60000 requests\/min, max 10000000 tokens\/min; in-flight limit over time/);
    expect(res.stderr).toMatch(/progress .*in flight \d+\/\d+, \d+ rpm/);
  });

  it('takes the limits from the experiment file\'s backend, and refuses a bad one naming the field', async () => {
    server = await startFakeOpenAIServer();
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-cli-limits-'));
    dataset(dir, 2);
    const exp = (backend: string) =>
      [
        'name: limited',
        'dataset:',
        '  path: items.jsonl',
        'task: mcq',
        'conditions:',
        '  - name: baseline',
        '    kind: baseline',
        '    rounds: 1',
        '    turns:',
        '      - user: "{context} {question} {choices}."',
        '        prefill: The single most likely answer choice is',
        'backend:',
        '  kind: openai',
        '  model: fake',
        `  baseUrl: ${server!.url}`,
        backend,
      ].join('\n');
    writeFileSync(path.join(dir, 'ok.sclab.yaml'), exp('  maxRpm: 50000\n  maxTpm: 900000\n'));
    const ok = await runCli(['run', path.join(dir, 'ok.sclab.yaml'), '--out', path.join(dir, 'runs'), '--json', '--no-cache']);
    expect(ok.code, ok.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(JSON.parse(ok.stdout).runDir, 'manifest.json'), 'utf8'));
    expect(manifest.settings).toMatchObject({ maxRpm: 50000, maxTpm: 900000 });
    // the command line wins over the file
    const flag = await runCli(['run', path.join(dir, 'ok.sclab.yaml'), '--max-rpm', '40000', '--out', path.join(dir, 'runs'), '--json', '--no-cache']);
    expect(JSON.parse(readFileSync(path.join(JSON.parse(flag.stdout).runDir, 'manifest.json'), 'utf8')).settings.maxRpm).toBe(40000);
    writeFileSync(path.join(dir, 'bad.sclab.yaml'), exp('  maxRpm: -5\n'));
    const bad = await runCli(['run', path.join(dir, 'bad.sclab.yaml'), '--out', path.join(dir, 'runs')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/maxRpm/);
    const badFlag = await runCli(['run', path.join(dir, 'ok.sclab.yaml'), '--max-tpm', '0', '--out', path.join(dir, 'runs')]);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/--max-tpm must be a positive number/);
  });
});
