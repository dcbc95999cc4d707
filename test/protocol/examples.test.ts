import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperimentYaml } from '../../src/core/protocol/experimentYaml';
import { getPreset } from '../../src/core/protocol/presets';
import { checkTemplatesAgainstItems } from '../../src/core/protocol/templateCheck';
import { bbqItem } from './fixtures';

const file = resolve(__dirname, '../../examples/bbq-religion.sclab.yaml');

describe('examples/bbq-religion.sclab.yaml', () => {
  const { experiment, diagnostics } = parseExperimentYaml(readFileSync(file, 'utf8'), file);

  it('parses cleanly and points at data/Religion.jsonl next to itself', () => {
    expect(diagnostics).toEqual([]);
    expect(experiment?.dataset.path).toBe(resolve(__dirname, '../../examples/data/Religion.jsonl'));
    expect(experiment?.dataset.filter).toEqual({ contextCondition: ['ambig'] });
  });

  it('uses the paper-bbq wording for the conditions it has', () => {
    const preset = getPreset('paper-bbq', 'x');
    const shape = (c: { name: string; kind: string; rounds: number; turns: unknown }) => ({ name: c.name, kind: c.kind, rounds: c.rounds, turns: c.turns });
    for (const c of experiment?.conditions ?? []) {
      const p = preset.conditions.find((q) => q.name === c.name);
      expect(p).toBeDefined();
      expect(shape(c)).toEqual(shape(p!));
    }
    expect(experiment?.conditions.map((c) => c.name)).toEqual(['baseline', 'self-correct', 'negation']);
    expect(checkTemplatesAgainstItems(experiment!, [bbqItem])).toEqual([]);
  });
});
