// A run starts from `stageExperiment`: the experiment and its items, written to a file as they are read (the run
// folder takes it over), so that a run never holds its dataset. It must give exactly what `prepareExperiment` gives,
// fail where it fails, and leave nothing behind when it does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discardStaged, prepareExperiment, stageExperiment, sweepStaged, type ExperimentInput } from '../../src/core/runner/prepare';

const REPO = path.resolve(__dirname, '../..');
const DEMO = path.join(REPO, 'examples/demo/bbq-demo.jsonl');

const staged = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`sclab-items-${process.pid}-`));

async function both(input: ExperimentInput) {
  const whole = await prepareExperiment(input);
  const s = await stageExperiment(input);
  try {
    const lines = readFileSync(s.items.file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    return { whole, staged: s, items: lines.map((l) => JSON.parse(l) as unknown) };
  } finally {
    await discardStaged(s.items);
  }
}

function dataset(rows: unknown[], name = 'd.jsonl'): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-stage-')), name);
  writeFileSync(file, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return file;
}

/** An experiment file whose one template needs {context}, beside its dataset. */
function withTemplate(rows: unknown[]): string {
  const data = dataset(rows);
  const file = path.join(path.dirname(data), 'e.sclab.yaml');
  writeFileSync(file, ['schema: sclab.experiment/1', 'name: e', 'dataset:', '  path: d.jsonl', 'task: mcq', 'conditions:', '  - name: baseline', '    kind: baseline', '    rounds: 1', '    turns:', '      - user: "{context} {question} {choices}."', ''].join('\n'));
  return file;
}

describe('stageExperiment', () => {
  it('writes the items prepareExperiment holds, in order, with the same experiment, dataset and warnings', async () => {
    for (const input of [{ file: DEMO, preset: 'paper-bbq' }, { file: DEMO, preset: 'paper-bbq', limit: 3 }, { file: DEMO, limit: 5, rounds: 2 }, { file: DEMO }]) {
      const { whole, staged: s, items } = await both(input);
      expect(items).toEqual(JSON.parse(JSON.stringify(whole.items)));
      expect(s.items.length).toBe(whole.items.length);
      expect(s.experiment).toEqual(whole.experiment);
      expect(s.dataset).toEqual(whole.dataset);
      expect(s.warnings).toEqual(whole.warnings);
    }
    // the preset's filter and the limit both cut: 8 ambiguous items of the demo's 16, then 3 of them
    expect((await both({ file: DEMO, preset: 'paper-bbq' })).items).toHaveLength(8);
    expect((await both({ file: DEMO, preset: 'paper-bbq', limit: 3 })).items).toHaveLength(3);
    expect(staged()).toEqual([]);
  });

  it('fails as prepareExperiment does, and removes what it wrote', async () => {
    const mcq = (i: number) => ({ id: `q${i}`, context: `C${i}.`, question: 'Who?', choices: ['A', 'B', 'C'], answer: 0 });
    const cases: Array<[ExperimentInput, RegExp]> = [
      // a bad row after good ones: the good ones were written before the error was known
      [{ file: dataset([mcq(1), mcq(2), '{"id": "bad", "choices": ']) }, /1 error\(s\); nothing was run/],
      [{ file: dataset([mcq(1), { id: 'g1', prompt: 'Tell me.' }]) }, /mixes multiple-choice and generation items/],
      [{ file: dataset([mcq(1), mcq(2)]), preset: 'paper-realtoxicity' }, /is a mcq item but the experiment's task is generation \(2 such item\(s\)\)/],
      [{ file: withTemplate([mcq(1), { id: 'q2', question: 'Who?', choices: ['A', 'B'], answer: 0 }, mcq(3), { id: 'q4', question: 'Who?', choices: ['A', 'B'], answer: 1 }]) }, /template slot \{context\}: 2 of 4 items have no such field \(first: item q2, .*d\.jsonl:2\); the items have: question, context, choices$/],
      [{ file: DEMO, preset: 'paper-bbq', limit: 0 }, /no items left after the filter/],
    ];
    for (const [input, message] of cases) {
      await expect(prepareExperiment(input)).rejects.toThrow(message);
      await expect(stageExperiment(input)).rejects.toThrow(message);
    }
    expect(staged()).toEqual([]);
  });

  it('removes the staged items of processes that were killed before their run folder took them, and only those', async () => {
    // a process that has exited: its pid names no process now
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-sweep-'));
    const names = {
      dead: `sclab-items-${dead}-0123456789ab.jsonl`,
      mine: `sclab-items-${process.pid}-0123456789ab.jsonl`,
      parent: `sclab-items-${process.ppid}-0123456789ab.jsonl`,
      other: `sclab-items-${dead}-notes.jsonl`,
    };
    for (const n of Object.values(names)) writeFileSync(path.join(dir, n), '{}\n');
    await sweepStaged(dir);
    expect(readdirSync(dir).sort()).toEqual([names.mine, names.parent, names.other].sort());
    // a run's staging sweeps the temporary folder first
    const left = path.join(tmpdir(), `sclab-items-${dead}-ba9876543210.jsonl`);
    writeFileSync(left, '{}\n');
    await discardStaged((await stageExperiment({ file: DEMO, limit: 2 })).items);
    expect(existsSync(left)).toBe(false);
  });
});
