// Browser-safe: the causal test of the superficial hypothesis (ours, beyond the paper). Conditions that steer along a
// probe's direction with several strengths give a dose–response: alpha → how far the probe's band score moved →
// how far the output moved, each a paired change against the baseline with a bootstrap interval over items. Beside
// it, the instruction's own point (the self-correct condition's last round against the baseline). If moving the
// internals moves the output (the steering slope), an instruction that acted through the same direction would
// change the output by about slope × its own internal shift; the verdict compares what the instruction did with
// that prediction.
//
// Every point pairs round 0 of the steered condition with round 0 of the baseline, item by item. The slope is a
// least-squares line through the origin (alpha 0 changes nothing, exactly) over the steered points' mean shifts;
// its interval and the instruction's excess come from the same item resamples (one bootstrap, items drawn jointly
// for every condition).
import type { Experiment } from '../model/experiment';
import type { RoundRecord } from '../model/record';
import { bandScore, type Band, type ProbeMeasure } from './probes';
import { baselineOf, cell, roundsOf, type RunIndex } from './runIndex';
import { bootstrap, bootstrapMean, type BootstrapOptions, type Interval } from './stats';

export interface CausalOptions extends BootstrapOptions {
  measure?: ProbeMeasure;
  /** the score key of generation tasks; default toxicity */
  scoreKey?: string;
}

export interface DosePoint {
  condition: string;
  alpha: number;
  ablate: boolean;
  layers: string;
  /** mean paired change of the probe's band score (steered − baseline) */
  probeShift: Interval | null;
  /** mean paired change of the output metric */
  outputChange: Interval | null;
  /** the output metric's level in this condition (mean over items) */
  output: number | null;
}

export type CausalCase = 'superficial' | 'through-direction' | 'instruction-weaker' | 'direction-not-causal' | 'no-instruction' | 'no-data';

export interface CausalRow {
  probe: string;
  band: [number, number];
  measure: ProbeMeasure;
  reference: string;
  /** accuracy (higher is better) or a generation score such as toxicity (lower is better) */
  outputMetric: string;
  /** steered conditions in order of alpha; ablations last */
  points: DosePoint[];
  /** the instruction: the self-correct condition's last round against the baseline */
  instruction: { condition: string; round: number; probeShift: Interval | null; outputChange: Interval | null } | null;
  /** output change per unit of probe shift under steering (least squares through the origin) */
  steeringSlope: Interval | null;
  /** the instruction's output change per unit of its probe shift (null when it did not move the probe at all) */
  instructionRatio: number | null;
  /** instruction's output change − steeringSlope × instruction's probe shift: what the direction does not explain */
  excess: Interval | null;
  case: CausalCase;
  verdict: string;
}

function outputValue(r: RoundRecord | undefined, generation: boolean, key: string): number | null {
  if (!r || r.error) return null;
  if (generation) return r.scores?.[key]?.value ?? null;
  return r.correct === null ? null : r.correct ? 1 : 0;
}

/** Per item id: [value in a, value in b] where both exist. */
function paired(a: ReadonlyMap<string, RoundRecord>, b: ReadonlyMap<string, RoundRecord>, value: (r: RoundRecord | undefined) => number | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, rb] of b) {
    const x = value(a.get(id));
    const y = value(rb);
    if (x !== null && y !== null) out.set(id, y - x);
  }
  return out;
}

const excludesZero = (ci: Interval): boolean => ci.lo > 0 || ci.hi < 0;
const fmt = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));
const ciText = (ci: Interval): string => `${fmt(ci.estimate)} [${fmt(ci.lo)}, ${fmt(ci.hi)}]`;
const meanOf = (xs: number[]): number | null => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** least-squares slope through the origin; null when every x is 0 */
export function slopeThroughOrigin(xs: readonly number[], ys: readonly number[]): number | null {
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += xs[i]! * ys[i]!;
    sxx += xs[i]! * xs[i]!;
  }
  return sxx > 0 ? sxy / sxx : null;
}

/** One row per probe that steered at least one condition; [] without a baseline or without steered conditions. */
export function causalTest(ix: RunIndex, experiment: Experiment | undefined, bands: ReadonlyMap<string, Band>, opts: CausalOptions = {}): CausalRow[] {
  const base = baselineOf(ix);
  if (!base || !experiment) return [];
  const generation = ix.task === 'generation';
  const key = opts.scoreKey ?? 'toxicity';
  const measure = opts.measure ?? 'cosine';
  const level = Math.round((opts.level ?? 0.95) * 100);
  const ref = cell(ix, base, 0);
  const steered = experiment.conditions.filter((c) => c.intervention && typeof c.intervention.alpha === 'number' && ix.cells.has(c.name));
  const probes = [...new Set(steered.map((c) => c.intervention!.probe))];
  const instructionCondition = ix.conditions.find((c) => ix.kinds.get(c) === 'self-correct' && !experiment.conditions.find((x) => x.name === c)?.intervention);
  const out: CausalRow[] = [];
  for (const probe of probes) {
    const band = bands.get(probe);
    if (!band) continue;
    const probeValue = (r: RoundRecord | undefined) => (r && !r.error ? bandScore(r.probes?.[probe], band, measure) : null);
    const outValue = (r: RoundRecord | undefined) => outputValue(r, generation, key);
    const conds = steered
      .filter((c) => c.intervention!.probe === probe)
      .sort((a, b) => Number(a.intervention!.ablate) - Number(b.intervention!.ablate) || (a.intervention!.alpha as number) - (b.intervention!.alpha as number));
    const perItem = conds.map((c) => {
      const cur = cell(ix, c.name, 0);
      return { c, shift: paired(ref, cur, probeValue), change: paired(ref, cur, outValue), level: [...cur.values()].map(outValue).filter((v): v is number => v !== null) };
    });
    const points: DosePoint[] = perItem.map(({ c, shift, change, level: values }) => ({
      condition: c.name,
      alpha: c.intervention!.alpha as number,
      ablate: c.intervention!.ablate,
      layers: c.intervention!.layers,
      probeShift: bootstrapMean([...shift.values()], opts),
      outputChange: bootstrapMean([...change.values()], opts),
      output: meanOf(values),
    }));

    let instruction: CausalRow['instruction'] = null;
    let instShift = new Map<string, number>();
    let instChange = new Map<string, number>();
    if (instructionCondition) {
      const rounds = roundsOf(ix, instructionCondition);
      const round = rounds[rounds.length - 1]!;
      const cur = cell(ix, instructionCondition, round);
      instShift = paired(ref, cur, probeValue);
      instChange = paired(ref, cur, outValue);
      instruction = { condition: instructionCondition, round, probeShift: bootstrapMean([...instShift.values()], opts), outputChange: bootstrapMean([...instChange.values()], opts) };
    }

    // one bootstrap over the items: each resample recomputes every point's means, the slope and the excess
    const adds = perItem.filter((p) => !p.c.intervention!.ablate);
    const items = [...new Set([...adds.flatMap((p) => [...p.shift.keys()]), ...instShift.keys()])];
    const slopeOf = (ids: readonly string[]): number | null => {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const p of adds) {
        const sx: number[] = [];
        const sy: number[] = [];
        for (const id of ids) {
          const x = p.shift.get(id);
          const y = p.change.get(id);
          if (x !== undefined && y !== undefined) {
            sx.push(x);
            sy.push(y);
          }
        }
        const mx = meanOf(sx);
        const my = meanOf(sy);
        if (mx !== null && my !== null) {
          xs.push(mx);
          ys.push(my);
        }
      }
      return slopeThroughOrigin(xs, ys);
    };
    const excessOf = (ids: readonly string[]): number | null => {
      const slope = slopeOf(ids);
      const s = meanOf(ids.flatMap((id) => (instShift.has(id) && instChange.has(id) ? [instShift.get(id)!] : [])));
      const c = meanOf(ids.flatMap((id) => (instShift.has(id) && instChange.has(id) ? [instChange.get(id)!] : [])));
      return slope === null || s === null || c === null ? null : c - slope * s;
    };
    const pick = (f: (ids: readonly string[]) => number | null) => (idx: readonly number[]) => f(idx.map((i) => items[i]!));
    const steeringSlope = bootstrap(items.length, pick(slopeOf), opts);
    const excess = instruction ? bootstrap(items.length, pick(excessOf), opts) : null;
    const instructionRatio =
      instruction?.probeShift && instruction.outputChange && instruction.probeShift.estimate !== 0 ? instruction.outputChange.estimate / instruction.probeShift.estimate : null;

    const row: CausalRow = { probe, band: [band.lo, band.hi], measure, reference: base, outputMetric: generation ? key : 'accuracy', points, instruction, steeringSlope, instructionRatio, excess, case: 'no-data', verdict: '' };
    Object.assign(row, verdictOf(row, level));
    out.push(row);
  }
  return out;
}

/** The plain-language verdict and how sure it is: every claim names the interval it rests on. */
function verdictOf(row: CausalRow, level: number): { case: CausalCase; verdict: string } {
  const { steeringSlope: slope, instruction, excess, outputMetric: metric } = row;
  const unit = `${metric} per unit of ${row.probe} band ${row.band[0]}–${row.band[1]} ${row.measure}`;
  if (!slope) return { case: 'no-data', verdict: 'no steered condition moved the probe with paired items: no dose–response, no verdict' };
  const slopeText = `steering slope ${ciText(slope)} ${unit}`;
  if (!excludesZero(slope)) {
    return {
      case: 'direction-not-causal',
      verdict: `moving the internals along ${row.probe} did not measurably move the output (${slopeText}, ${level}% interval includes 0): this direction is not a lever on the output at these strengths, so the test cannot tell whether the instruction is superficial — try larger alphas or another band`,
    };
  }
  if (!instruction?.outputChange || !instruction.probeShift || !excess) {
    return { case: 'no-instruction', verdict: `the output follows the direction (${slopeText}); no self-correct condition to compare the instruction with` };
  }
  const inst = `the instruction moved ${metric} by ${ciText(instruction.outputChange)} and the probe by ${ciText(instruction.probeShift)}`;
  const pred = `steering predicts ${fmt(slope.estimate * instruction.probeShift.estimate)} for that internal shift`;
  // beyond the prediction in the direction the instruction moved the output: another path carries the effect
  if (excludesZero(excess) && Math.sign(excess.estimate) === Math.sign(instruction.outputChange.estimate)) {
    return {
      case: 'superficial',
      verdict: `${inst}; ${pred}: the instruction's effect exceeds what its internal shift explains by ${ciText(excess)} (${level}% interval excludes 0) — its effect runs mostly through another path than this direction, as the superficial hypothesis says`,
    };
  }
  if (!excludesZero(excess)) {
    return {
      case: 'through-direction',
      verdict: `${inst}; ${pred}: the difference ${ciText(excess)} is within the ${level}% interval of 0 — the instruction's output change is what its internal shift along ${row.probe} explains; by this test not superficial`,
    };
  }
  return {
    case: 'instruction-weaker',
    verdict: `${inst}; ${pred}: the instruction changed the output less than its internal shift would under steering (difference ${ciText(excess)}, ${level}% interval excludes 0)`,
  };
}
