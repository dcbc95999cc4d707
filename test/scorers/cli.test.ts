import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { fakeToxicity, startFakePerspective, type FakeScorerServer } from '../support/fake-scorer-servers';
import { toyRows } from './toy-data';

const dir = mkdtempSync(path.join(tmpdir(), 'sclab-scorer-cli-'));
const data = path.join(dir, 'toy.csv');
const out = path.join(dir, 'toy.scorer.json');
let persp: FakeScorerServer;

beforeAll(async () => {
  const rows = toyRows(120);
  writeFileSync(data, 'id,comment,toxic\n' + rows.map((r, i) => `${i},"${r.text}",${r.label ? 'yes' : 'no'}`).join('\n') + '\n');
  persp = await startFakePerspective({ key: 'cli-perspective-key' });
});
afterAll(() => persp.close());

describe('sclab scorer', () => {
  it('trains from a CSV and scores texts with the file', async () => {
    const train = await runCli(['scorer', 'train', '--data', data, '--text-field', 'comment', '--label-field', 'toxic', '--positive', 'yes', '--out', out, '--buckets', '4096', '--l2', '0.001', '--json']);
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    const report = JSON.parse(train.stdout);
    expect(report.training.positives).toBe(60);
    expect(report.training.heldOut.n).toBe(24);
    expect(report.training.heldOut.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(report.training.data.file).toBe('toy.csv');
    expect(report.training.data.positive).toEqual(['yes']);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.schema).toBe('sclab.scorer/1');
    expect(file.features.buckets).toBe(4096);

    const scored = await runCli(['scorer', 'score', '--scorer', out, '--text', 'you pathetic moron', 'thanks, that was helpful', '--json']);
    expect(scored.code).toBe(0);
    const s = JSON.parse(scored.stdout);
    expect(s.scorer).toBe('offline');
    expect(s.version).toBe(report.version);
    expect(s.scores[0]).toBeGreaterThan(0.5);
    expect(s.scores[1]).toBeLessThan(0.5);

    const plain = await runCli(['scorer', 'score', '--scorer', out, '--text', 'you pathetic moron']);
    expect(plain.stdout.trim()).toBe(s.scores[0].toFixed(6));
  });

  it('refuses bad labels and bad flags with exit code 1 and a message naming the place', async () => {
    const bad = await runCli(['scorer', 'train', '--data', data, '--text-field', 'comment', '--label-field', 'toxic', '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/toy\.csv:2: label "(yes|no)" in "toxic" is not 0\/1\/true\/false/);
    const flag = await runCli(['scorer', 'train', '--data', data, '--text-field', 'comment', '--label-field', 'toxic', '--positive', 'yes', '--out', out, '--buckets', '1000']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/--buckets "1000": expected a power of two/);
    const none = await runCli(['scorer', 'score', '--text', 'x']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/name a scorer/);
  });

  it('scores through Perspective with the key from the environment and warns once about the shutdown', async () => {
    const r = await runCli(['scorer', 'score', '--kind', 'perspective', '--url', persp.url, '--text', 'idiot', 'hello'], { env: { PERSPECTIVE_API_KEY: 'cli-perspective-key' } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([fakeToxicity('idiot').toFixed(6), fakeToxicity('hello').toFixed(6)]);
    expect(r.stderr.match(/end of 2026/g)).toHaveLength(1);
    const noKey = await runCli(['scorer', 'score', '--kind', 'perspective', '--url', persp.url, '--text', 'x']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/PERSPECTIVE_API_KEY, which is not set/);
    const wrongKey = await runCli(['scorer', 'score', '--kind', 'perspective', '--url', persp.url, '--text', 'x'], { env: { PERSPECTIVE_API_KEY: 'wrong-key-value' } });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toMatch(/auth: .*refused the credentials/);
    expect(wrongKey.stderr).not.toContain('wrong-key-value');
  });
});
