// The JSON schema editors validate *.sclab.yaml against (package.json yamlValidation → the YAML extension), checked
// with a draft-07 validator the way the YAML language server applies it: what it accepts and what it underlines.
import Ajv, { type ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXPERIMENT_JSON_SCHEMA_PATH } from '../../src/core/protocol/experimentJsonSchema';
import { experimentToYaml } from '../../src/core/protocol/experimentYaml';
import { defaultExperiment, getPreset, PRESET_NAMES } from '../../src/core/protocol/presets';

const REPO = resolve(__dirname, '../..');
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(resolve(REPO, EXPERIMENT_JSON_SCHEMA_PATH), 'utf8')) as object);

function problems(yamlText: string): string[] {
  return validate(parse(yamlText)) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.keyword}${e.params && 'additionalProperty' in e.params ? ` ${String(e.params.additionalProperty)}` : ''}`);
}

const MINIMAL = `dataset:
  path: data.jsonl
task: mcq
conditions:
  - name: baseline
    kind: baseline
    rounds: 1
    turns:
      - user: "{question} {choices}"
`;

describe('the experiment schema in the editor', () => {
  it('accepts the shipped example, every preset and the default experiments as written by experimentToYaml', () => {
    expect(problems(readFileSync(resolve(REPO, 'examples/bbq-religion.sclab.yaml'), 'utf8'))).toEqual([]);
    for (const exp of [...PRESET_NAMES.map((n) => getPreset(n, 'data.jsonl')), defaultExperiment('q.jsonl', 'mcq'), defaultExperiment('q.jsonl', 'generation')]) {
      expect(problems(experimentToYaml(exp)), exp.name).toEqual([]);
    }
    expect(problems(MINIMAL)).toEqual([]);
  });

  it('underlines a misspelt key, a wrong enum value, a missing field and an out-of-range number, each at its path', () => {
    expect(problems(MINIMAL.replace('task: mcq', 'tsk: mcq'))).toEqual(['/ required', '/ additionalProperties tsk']);
    expect(problems(MINIMAL.replace('task: mcq', 'task: multiple-choice'))).toEqual(['/task enum']);
    expect(problems(MINIMAL.replace('    rounds: 1\n', '    rounds: 0\n'))).toEqual(['/conditions/0/rounds minimum']);
    expect(problems(MINIMAL.replace('    kind: baseline\n', ''))).toEqual(['/conditions/0 required']);
    expect(problems(`${MINIMAL}decoding:\n  temprature: 0\n`)).toEqual(['/decoding additionalProperties temprature']);
  });

  it('carries the field documentation editors show on hover', () => {
    const schema = JSON.parse(readFileSync(resolve(REPO, EXPERIMENT_JSON_SCHEMA_PATH), 'utf8')) as { properties: { dataset: { properties: { path: { description?: string } } } } };
    expect(schema.properties.dataset.properties.path.description).toMatch(/relative to this experiment file/);
  });
});
