// Golden tests of the dose–response statistics: values chosen so every estimate and interval bound is computed by hand.
import { describe, expect, it } from 'vitest';
import { causalTest, slopeThroughOrigin } from '../../src/core/analysis/causal';
import { resolveBands } from '../../src/core/analysis/probes';
import { indexRun } from '../../src/core/analysis/runIndex';
import { ExperimentSchema } from '../../src/core/model/experiment';
import type { RoundRecord } from '../../src/core/model/record';
import { genItem, probe, rec, tox } from './fixtures';

const ids = ['a', 'b', 'c', 'd'];
const items = ids.map(genItem);
const turns = [{ user: '{prompt}' }];
const experiment = ExperimentSchema.parse({
  dataset: { path: 'x.jsonl' },
  task: 'generation',
  probes: [{ name: 'dir', path: 'dir.probe.json', band: [1, 1] }],
  conditions: [
    { name: 'baseline', kind: 'baseline', rounds: 1, turns },
    { name: 'self-correct', kind: 'self-correct', rounds: 2, turns },
    ...[-2, 0, 2].map((alpha) => ({ name: `steer.alpha${alpha}`, kind: 'variant', rounds: 1, turns, intervention: { probe: 'dir', layers: '1-1', alpha } })),
  ],
});

/** band score x at layer 1 (the band) and other values elsewhere */
const at = (x: number) => ({ dir: probe([9, x, 9, 9]) });
function rows(condition: string, round: number, shift: number[], toxicity: number[]): RoundRecord[] {
  return ids.map((id, i) => rec(id, condition, round, { correct: null, probes: at(shift[i]!), scores: tox(toxicity[i]!) }));
}

function analyse(records: RoundRecord[]) {
  const ix = indexRun(records, items, experiment);
  const out = causalTest(ix, experiment, resolveBands(ix, ['dir'], experiment), { seed: 3, resamples: 500 });
  expect(out).toHaveLength(1);
  return out[0]!;
}

const steered = (plus: number[]) => [
  ...rows('baseline', 0, [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]),
  ...rows('steer.alpha-2', 0, [-0.2, -0.2, -0.2, -0.2], [0.7, 0.7, 0.7, 0.7]),
  ...rows('steer.alpha0', 0, [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]),
  ...rows('steer.alpha2', 0, plus, [0.3, 0.3, 0.3, 0.3]),
];

describe('causal test (dose–response)', () => {
  it('slope through the origin', () => {
    expect(slopeThroughOrigin([-0.2, 0, 0.2], [0.2, 0, -0.2])).toBeCloseTo(-1, 12);
    expect(slopeThroughOrigin([1, 2], [2, 3])).toBeCloseTo(8 / 5, 12);
    expect(slopeThroughOrigin([0, 0], [1, 2])).toBeNull();
  });

  it('instruction moves the output far beyond what its internal shift predicts → superficial', () => {
    // steering: shifts −0.2 / 0 / mean 0.2 (0.1, 0.3, 0.1, 0.3), output changes +0.2 / 0 / −0.2 → slope −1.
    // A resample's alpha2 mean shift m lies in [0.1, 0.3]: slope (−0.04 − 0.2m)/(0.04 + m²) ∈ [−1.2, −0.769].
    // instruction: shift +0.01, toxicity −0.3 → predicted −0.01, excess −0.29 ∈ [−0.3 + 0.00769, −0.3 + 0.012].
    const r = analyse([...steered([0.1, 0.3, 0.1, 0.3]), ...rows('self-correct', 0, [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]), ...rows('self-correct', 1, [0.01, 0.01, 0.01, 0.01], [0.2, 0.2, 0.2, 0.2])]);
    expect(r.probe).toBe('dir');
    expect(r.band).toEqual([1, 1]);
    expect(r.outputMetric).toBe('toxicity');
    expect(r.points.map((p) => [p.condition, p.alpha])).toEqual([['steer.alpha-2', -2], ['steer.alpha0', 0], ['steer.alpha2', 2]]);
    expect(r.points[0]!.probeShift!.estimate).toBeCloseTo(-0.2, 12);
    expect(r.points[0]!.outputChange!.estimate).toBeCloseTo(0.2, 12);
    expect(r.points[1]!.probeShift).toEqual({ estimate: 0, lo: 0, hi: 0, n: 4 });
    expect(r.points[2]!.probeShift!.estimate).toBeCloseTo(0.2, 12);
    expect(r.points[2]!.probeShift!.lo).toBeGreaterThanOrEqual(0.1 - 1e-12);
    expect(r.points[2]!.probeShift!.hi).toBeLessThanOrEqual(0.3 + 1e-12);
    expect(r.points[2]!.output).toBeCloseTo(0.3, 12);
    expect(r.steeringSlope!.estimate).toBeCloseTo(-1, 12);
    expect(r.steeringSlope!.lo).toBeGreaterThanOrEqual(-1.2 - 1e-9);
    expect(r.steeringSlope!.hi).toBeLessThanOrEqual(-0.769);
    expect(r.instruction).toMatchObject({ condition: 'self-correct', round: 1 });
    expect(r.instruction!.probeShift!.estimate).toBeCloseTo(0.01, 12);
    expect(r.instruction!.outputChange!.estimate).toBeCloseTo(-0.3, 12);
    expect(r.instructionRatio).toBeCloseTo(-30, 9);
    expect(r.excess!.estimate).toBeCloseTo(-0.29, 12);
    expect(r.excess!.lo).toBeGreaterThanOrEqual(-0.2924);
    expect(r.excess!.hi).toBeLessThanOrEqual(-0.288 + 1e-9);
    expect(r.case).toBe('superficial');
    expect(r.verdict).toMatch(/exceeds what its internal shift explains by -0\.290 \[/);
  });

  it('instruction changes the output as much as steering predicts for its shift → through the direction', () => {
    // instruction shift 0.1, change −0.1: predicted −0.1 × slope(−1) … excess 0 within its interval
    const r = analyse([...steered([0.2, 0.2, 0.2, 0.2]), ...rows('self-correct', 1, [0.1, 0.1, 0.1, 0.1], [0.4, 0.4, 0.4, 0.4])]);
    expect(r.steeringSlope).toMatchObject({ lo: expect.closeTo(-1, 9), hi: expect.closeTo(-1, 9) });
    expect(r.excess!.estimate).toBeCloseTo(0, 12);
    expect(r.case).toBe('through-direction');
  });

  it('steering that does not move the output → the direction is no lever; no verdict on the instruction', () => {
    const flat = [
      ...rows('baseline', 0, [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]),
      ...rows('steer.alpha-2', 0, [-0.2, -0.2, -0.2, -0.2], [0.6, 0.4, 0.6, 0.4]),
      // paired with −2 item by item the changes cancel: slope −5 × (mean change at −2), 0 on the full sample
      ...rows('steer.alpha2', 0, [0.2, 0.2, 0.2, 0.2], [0.4, 0.6, 0.4, 0.6]),
      ...rows('self-correct', 1, [0, 0, 0, 0], [0.2, 0.2, 0.2, 0.2]),
    ];
    const r = analyse(flat);
    expect(r.steeringSlope!.estimate).toBeCloseTo(0, 12);
    expect(r.steeringSlope!.lo).toBeLessThan(0);
    expect(r.steeringSlope!.hi).toBeGreaterThan(0);
    expect(r.case).toBe('direction-not-causal');
    expect(r.verdict).toMatch(/did not measurably move the output/);
  });

  it('no steered condition, or no baseline: no rows', () => {
    const ix = indexRun(rows('baseline', 0, [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]), items, experiment);
    expect(causalTest(ix, experiment, resolveBands(ix, ['dir'], experiment))).toEqual([]);
    expect(causalTest(ix, undefined, resolveBands(ix, ['dir']))).toEqual([]);
  });
});
