// Ten resumes of a killed run started at once, fifty times: exactly one proceeds, no line is written twice.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/core/runner/store';
import { sampleManifest } from '../support/sample-manifest';

const ROUNDS = 50;
const RESUMERS = 10;
const PLANNED = 40;
let script = '';
const children: Child[] = [];

interface Child {
  proc: ChildProcessByStdio<Writable, Readable, null>;
  ask(line: string): Promise<string>;
}

function startChild(): Child {
  const proc = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => waiting.shift()?.(line));
  proc.on('close', () => {
    for (const w of waiting.splice(0)) w('exited');
  });
  return {
    proc,
    ask(line) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        proc.stdin.write(`${line}\n`);
      });
    },
  };
}

beforeAll(() => {
  script = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-lockchild-')), 'child.cjs');
  buildSync({ entryPoints: [path.join(__dirname, '..', 'support', 'lock-resume-child.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: script, logLevel: 'silent' });
  for (let i = 0; i < RESUMERS; i++) children.push(startChild());
});
afterAll(() => {
  for (const c of children) c.proc.kill();
});

/** A run whose writer was killed half-way: its lock stays behind, naming a process that is gone. */
async function killedRun(): Promise<string> {
  const runDir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-lockstress-')), 'run');
  const store = await RunStore.create(runDir, sampleManifest());
  await store.close();
  const holder = startChild();
  expect(await holder.ask(`hold ${runDir} ${PLANNED}`)).toBe('holding');
  const gone = new Promise((r) => holder.proc.on('close', r));
  holder.proc.kill('SIGKILL');
  await gone;
  expect(readFileSync(path.join(runDir, 'run.lock'), 'utf8')).toContain(`"pid":${holder.proc.pid}`);
  return runDir;
}

describe('run lock under concurrent resumes', () => {
  it(`${RESUMERS} resumes of a killed run at once, ${ROUNDS} times: exactly one proceeds, zero duplicate lines`, async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runDir = await killedRun();
      const startAt = Date.now() + 50;
      const results = await Promise.all(children.map((c) => c.ask(`resume ${runDir} ${PLANNED} ${startAt}`)));
      const proceeded = results.filter((r) => r.startsWith('proceeded'));
      const refused = results.filter((r) => r.startsWith('refused') && /is in use by process \d+/.test(r));
      // the winner keeps the run until every other resume has answered, so none can come after it
      await Promise.all(children.map((c) => c.ask('release')));
      outcomes.push(`${proceeded.length}/${refused.length}`);
      expect(proceeded, `round ${round}:\n${results.join('\n')}`).toHaveLength(1);
      expect(refused, `round ${round}:\n${results.join('\n')}`).toHaveLength(RESUMERS - 1);
      const ids = readFileSync(path.join(runDir, 'records.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { itemId: string }).itemId);
      expect(new Set(ids).size, `round ${round}: duplicate lines`).toBe(ids.length);
      expect(ids).toHaveLength(PLANNED);
    }
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, () => `1/${RESUMERS - 1}`));
  }, 300_000);
});
