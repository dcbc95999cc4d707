// Re-scoring a finished run with another scorer (the migration from Perspective): new scores go under a new key
// next to the old ones, never over them; an interrupted re-scoring leaves records.jsonl as it was and continues
// from its journal.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinToxicityScorer } from '../../src/core/scorers/offline/builtin';
import { journalFile, rescoreRun } from '../../src/core/scorers/rescore';
import type { Scorer } from '../../src/core/scorers/scorer';
import { runCli } from '../support/cli';
import { startFakeOpenAIServer, type FakeServer } from '../support/fake-openai-server';
import { fakeToxicity, startFakeHttpScorer, type FakeScorerServer } from '../support/fake-scorer-servers';

interface RecordLine {
  response: string;
  scores: Record<string, { value: number | null; scorer: string; version: string }>;
}

const closers: Array<FakeServer | FakeScorerServer> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((s) => s.close()));
});

/** A finished generation run (3 prompts × baseline + 2 self-correct rounds) scored by an HTTP stand-in for Perspective. */
async function scoredRun(): Promise<{ runDir: string; records: () => RecordLine[] }> {
  const llm = await startFakeOpenAIServer({ reply: (body) => (JSON.stringify(body).includes('rude') ? ' you stupid idiot' : ' the garden was full of flowers') });
  const perspective = await startFakeHttpScorer({ version: 'perspective-stand-in' });
  closers.push(llm, perspective);
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-rescore-'));
  writeFileSync(path.join(dir, 'prompts.jsonl'), ['a rude start', 'a calm start', 'another rude one'].map((p, i) => JSON.stringify({ id: `p${i}`, prompt: p })).join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'exp.sclab.yaml'),
    `dataset:\n  path: prompts.jsonl\ntask: generation\nconditions:\n  - name: baseline\n    kind: baseline\n    rounds: 1\n    turns:\n      - user: "{prompt}"\n  - name: self-correct\n    kind: self-correct\n    rounds: 2\n    turns:\n      - user: "{prompt}"\n      - user: "Review it."\nscorers:\n  - name: toxicity\n    kind: http\n    url: ${perspective.url}\n`,
  );
  const run = await runCli(['run', path.join(dir, 'exp.sclab.yaml'), '--base-url', llm.url, '--model', 'fake', '--out', path.join(dir, 'runs'), '--json', '--quiet', '--no-cache']);
  expect(run.code, run.stderr).toBe(0);
  const { runDir } = JSON.parse(run.stdout) as { runDir: string };
  const records = () => readFileSync(path.join(runDir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
  return { runDir, records };
}

describe('sclab scorer rescore', () => {
  it('writes the built-in scorer\'s scores next to the old ones; report shows both side by side', async () => {
    const { runDir, records } = await scoredRun();
    const before = records();
    expect(before).toHaveLength(9);
    const res = await runCli(['scorer', 'rescore', runDir, '--scorer', 'builtin', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const scorer = builtinToxicityScorer();
    expect(JSON.parse(res.stdout)).toMatchObject({ key: 'toxicity-offline', scorer: 'offline', version: scorer.version, scored: 9, resumed: 0, untouched: 0 });
    const after = records();
    for (const [i, r] of after.entries()) {
      // the old score untouched, the rest of the record too
      expect({ ...r, scores: { toxicity: r.scores.toxicity } }).toEqual(before[i]);
      expect(r.scores.toxicity).toEqual({ value: fakeToxicity(r.response.trim()), scorer: 'http', version: expect.stringContaining('perspective-stand-in') });
      expect(r.scores['toxicity-offline']).toEqual({ value: (await scorer.score([r.response]))[0], scorer: 'offline', version: scorer.version });
    }
    const manifest = JSON.parse(readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.scorers.map((c: { name: string }) => c.name)).toEqual(['toxicity', 'toxicity-offline']);
    expect(manifest.scorers[1]).toMatchObject({ builtin: true, rescoredAt: expect.any(String), agreement: scorer.about!.agreement });
    expect(existsSync(journalFile(runDir, 'toxicity-offline'))).toBe(false);

    const report = await runCli(['report', runDir]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('Scores side by side');
    expect(report.stdout).toMatch(/toxicity-offline\s+offline@sclab-toxicity@/);

    // never over: another scorer under an existing key is refused; the same scorer again has nothing to do
    const clash = await runCli(['scorer', 'rescore', runDir, '--scorer', 'builtin', '--name', 'toxicity']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/already hold "toxicity" scores from http@.*never overwrites them: pick another --name/);
    const again = await runCli(['scorer', 'rescore', runDir, '--scorer', 'builtin', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ scored: 0, resumed: 9 });
    expect(records()).toEqual(after);
  });

  it('leaves records.jsonl as it was when interrupted, and continues from the journal', async () => {
    const { runDir, records } = await scoredRun();
    const original = readFileSync(path.join(runDir, 'records.jsonl'), 'utf8');
    const real = builtinToxicityScorer();
    let calls = 0;
    const failing: Scorer = {
      ...real,
      name: real.name,
      version: real.version,
      async score(texts) {
        if (++calls === 2) throw new Error('connection lost');
        return real.score(texts);
      },
    };
    await expect(rescoreRun({ runDir, scorer: failing, key: 'offline', batchSize: 4 })).rejects.toThrow('connection lost');
    expect(readFileSync(path.join(runDir, 'records.jsonl'), 'utf8')).toBe(original);
    const journal = readFileSync(journalFile(runDir, 'offline'), 'utf8').trim().split('\n');
    expect(journal).toHaveLength(1 + 4);

    // a torn last journal line (a crash mid-write) is scored again, not misread
    writeFileSync(journalFile(runDir, 'offline'), journal.join('\n') + '\n{"k":"torn');
    const other = { ...real, version: 'another-version' };
    await expect(rescoreRun({ runDir, scorer: other, key: 'offline' })).rejects.toThrow(/used offline@sclab-toxicity.*not offline@another-version/);

    const seen: number[] = [];
    const done = await rescoreRun({ runDir, scorer: real, key: 'offline', batchSize: 4, onProgress: (n) => seen.push(n) });
    expect(done).toMatchObject({ scored: 5, resumed: 4 });
    expect(seen).toEqual([8, 9]);
    for (const r of records()) expect(r.scores.offline).toEqual({ value: (await real.score([r.response]))[0], scorer: 'offline', version: real.version });
    expect(existsSync(journalFile(runDir, 'offline'))).toBe(false);
  });

  it('gives a run made without a scorer its output metric: the default key is then "toxicity"', async () => {
    const { runDir, records } = await scoredRun();
    const bare = records().map(({ scores: _scores, ...r }) => JSON.stringify(r));
    writeFileSync(path.join(runDir, 'records.jsonl'), bare.join('\n') + '\n');
    const before = await runCli(['report', runDir]);
    expect(before.stdout).toContain('no toxicity scorer configured: ');
    const res = await runCli(['scorer', 'rescore', runDir, '--scorer', 'builtin', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ key: 'toxicity', scored: 9 });
    const after = await runCli(['report', runDir]);
    expect(after.stdout).not.toContain('no toxicity scorer configured');
    expect(after.stdout).toMatch(/"toxicity" scored by offline@sclab-toxicity@1\/.*agreement with Perspective/);
  });
});
