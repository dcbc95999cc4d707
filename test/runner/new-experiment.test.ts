import Ajv from 'ajv';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SclabError } from '../../src/core/model/errors';
import { EXPERIMENT_JSON_SCHEMA_PATH } from '../../src/core/protocol/experimentJsonSchema';
import { loadExperimentFile } from '../../src/core/protocol/experimentFile';
import { writeNewExperiment } from '../../src/core/runner/new-experiment';
import { prepareExperiment } from '../../src/core/runner/prepare';

const REPO = resolve(__dirname, '../..');
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(resolve(REPO, EXPERIMENT_JSON_SCHEMA_PATH), 'utf8')) as object);

function demoCopy(): { dir: string; dataset: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sclab-new-exp-'));
  const dataset = join(dir, 'bbq-demo.jsonl');
  copyFileSync(resolve(REPO, 'examples/demo/bbq-demo.jsonl'), dataset);
  return { dir, dataset };
}

describe('New Experiment: writeNewExperiment', () => {
  it('writes a commented file next to the dataset from a preset; it loads, validates and runs on the right items', async () => {
    const { dir, dataset } = demoCopy();
    const file = await writeNewExperiment({ dataset, preset: 'paper-bbq', limit: 10 });
    expect(file).toBe(join(dir, 'bbq-demo.sclab.yaml'));
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# Self-Correction Lab experiment/);
    expect(text).toContain('# mcq: the gold option is ranked');
    expect(text).toContain('  path: bbq-demo.jsonl\n');
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    const exp = await loadExperimentFile(file);
    expect(exp.preset).toBe('paper-bbq');
    expect(exp.dataset).toMatchObject({ path: dataset, limit: 10, filter: { contextCondition: ['ambig'] } });
    expect(exp.conditions.map((c) => c.name).slice(0, 3)).toEqual(['baseline', 'self-correct', 'negation']);
    const prepared = await prepareExperiment({ file });
    // the demo has 8 ambiguous items: the preset's filter keeps those, the limit does not cut
    expect(prepared.items.length).toBe(8);
  });

  it('never overwrites: a second file gets the next free name', async () => {
    const { dir, dataset } = demoCopy();
    const first = await writeNewExperiment({ dataset });
    const before = readFileSync(first, 'utf8');
    const second = await writeNewExperiment({ dataset, preset: 'paper-bbq' });
    expect(second).toBe(join(dir, 'bbq-demo-2.sclab.yaml'));
    expect(readFileSync(first, 'utf8')).toBe(before);
  });

  it('from the default protocol: baseline + self-correct for the data, with a commented hint for a quick first run', async () => {
    const { dataset } = demoCopy();
    const text = readFileSync(await writeNewExperiment({ dataset }), 'utf8');
    expect(text).toContain('name: bbq-demo-self-correct\n');
    expect(text).toMatch(/^ {2}# limit: 10 .*uncomment/m);
    expect(text).not.toMatch(/^preset:/m);
    expect(parse(text).conditions.map((c: { kind: string }) => c.kind)).toEqual(['baseline', 'self-correct']);
  });

  it('a preset that does not fit the data is a config error naming the problem, and no file is written', async () => {
    const { dir, dataset } = demoCopy();
    const err = await writeNewExperiment({ dataset, preset: 'paper-realtoxicity' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SclabError);
    expect((err as SclabError).code).toBe('config');
    expect((err as Error).message).toMatch(/generation|mcq/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sclab.yaml'))).toEqual([]);
    expect(existsSync(join(dir, 'bbq-demo.sclab.yaml'))).toBe(false);
  });
});
