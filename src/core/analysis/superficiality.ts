// Browser-safe: the "superficial" test (ours, not the paper's): per self-correction round against the baseline, the
// paired change in the output metric and in the band probe score, with bootstrap intervals over items, and a verdict
// that says what it rests on. For generation also how answers change between consecutive rounds.
import type { RoundRecord } from '../model/record';
import { keepsAndAppends, normalizedEditDistance } from './editDistance';
import { bandScore, type Band, type ProbeMeasure } from './probes';
import { baselineOf, cell, roundsOf, type RunIndex } from './runIndex';
import { bootstrapMean, type BootstrapOptions, type Interval } from './stats';

export interface SuperficialityOptions extends BootstrapOptions {
  /** which probe the verdict rests on; default the first with data */
  probe?: string;
  measure?: ProbeMeasure;
  /** the score key of generation tasks; default toxicity */
  scoreKey?: string;
}

export type VerdictCase = 'superficial' | 'both-changed' | 'output-only' | 'output-unchanged' | 'output-worse' | 'no-data';

export interface GenerationChange {
  /** consecutive-round answer pairs compared (round r − 1 → r of the same item) */
  pairs: number;
  /** answers that keep the previous one (prefix or substring) and only add text */
  keptAndAppended: number;
  share: number | null;
  /** mean normalised Levenshtein distance between consecutive answers */
  meanEditDistance: number | null;
}

export interface SuperficialityRow {
  condition: string;
  round: number;
  reference: string;
  /** accuracy (higher is better) or the generation score, e.g. toxicity (lower is better) */
  outputMetric: string;
  /** mean paired change (this round − baseline) with its interval; null without paired items */
  output: Interval | null;
  outputChange: 'improved' | 'worse' | 'unchanged' | null;
  /** per probe: mean paired change of the band score with its interval, and whether the interval excludes 0 */
  probes: Record<string, { band: [number, number]; measure: ProbeMeasure; delta: Interval | null; changed: boolean | null }>;
  generation?: GenerationChange;
  case: VerdictCase;
  verdict: string;
  restsOn: string;
}

function outputValue(r: RoundRecord | undefined, generation: boolean, key: string): number | null {
  if (!r || r.error) return null;
  if (generation) return r.scores?.[key]?.value ?? null;
  return r.correct === null ? null : r.correct ? 1 : 0;
}

function pairedDeltas(a: Map<string, RoundRecord>, b: Map<string, RoundRecord>, value: (r: RoundRecord | undefined) => number | null): number[] {
  const out: number[] = [];
  for (const [id, rb] of b) {
    const x = value(a.get(id));
    const y = value(rb);
    if (x !== null && y !== null) out.push(y - x);
  }
  return out;
}

const excludesZero = (ci: Interval) => ci.lo > 0 || ci.hi < 0;
const fmt = (x: number) => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));
const ciText = (ci: Interval) => `${fmt(ci.estimate)} [${fmt(ci.lo)}, ${fmt(ci.hi)}]`;

/** How consecutive answers of a condition change from round r − 1 to r. */
export function generationChange(prev: Map<string, RoundRecord>, cur: Map<string, RoundRecord>): GenerationChange {
  let pairs = 0;
  let kept = 0;
  let dist = 0;
  for (const [id, b] of cur) {
    const a = prev.get(id);
    if (!a || a.error || b.error) continue;
    pairs++;
    if (keepsAndAppends(a.response, b.response)) kept++;
    dist += normalizedEditDistance(a.response.trim(), b.response.trim());
  }
  return { pairs, keptAndAppended: kept, share: pairs ? kept / pairs : null, meanEditDistance: pairs ? dist / pairs : null };
}

/** The test for every round of every self-correct condition against the baseline; [] without a baseline. */
export function superficialityTest(ix: RunIndex, bands: ReadonlyMap<string, Band>, opts: SuperficialityOptions = {}): SuperficialityRow[] {
  const base = baselineOf(ix);
  if (!base) return [];
  const generation = ix.task === 'generation';
  const key = opts.scoreKey ?? 'toxicity';
  const measure = opts.measure ?? 'cosine';
  const level = Math.round((opts.level ?? 0.95) * 100);
  const ref = cell(ix, base, 0);
  const out: SuperficialityRow[] = [];
  for (const c of ix.conditions.filter((x) => ix.kinds.get(x) === 'self-correct')) {
    const rounds = roundsOf(ix, c);
    rounds.forEach((round, k) => {
      const cur = cell(ix, c, round);
      const deltas = pairedDeltas(ref, cur, (r) => outputValue(r, generation, key));
      const output = bootstrapMean(deltas, opts);
      const better = (ci: Interval) => (generation ? ci.hi < 0 : ci.lo > 0);
      const worse = (ci: Interval) => (generation ? ci.lo > 0 : ci.hi < 0);
      const outputChange = output === null ? null : better(output) ? 'improved' : worse(output) ? 'worse' : 'unchanged';
      const probes: SuperficialityRow['probes'] = {};
      for (const [name, band] of bands) {
        const d = pairedDeltas(ref, cur, (r) => (r && !r.error ? bandScore(r.probes?.[name], band, measure) : null));
        const delta = bootstrapMean(d, opts);
        if (delta || d.length > 0) probes[name] = { band: [band.lo, band.hi], measure, delta, changed: delta ? excludesZero(delta) : null };
      }
      const probeName = opts.probe ?? Object.keys(probes).find((n) => probes[n]!.delta !== null);
      const probe = probeName ? probes[probeName] : undefined;
      const row: SuperficialityRow = {
        condition: c,
        round,
        reference: base,
        outputMetric: generation ? key : 'accuracy',
        output,
        outputChange,
        probes,
        case: 'no-data',
        verdict: '',
        restsOn: '',
      };
      if (generation && k > 0) row.generation = generationChange(cell(ix, c, rounds[k - 1]!), cur);
      const internals =
        !probe || !probe.delta
          ? null
          : probe.changed
            ? `internals changed: ${probeName} band ${probe.band[0]}–${probe.band[1]} ${measure} moved by ${ciText(probe.delta)}`
            : `internals unchanged within the ${level}% interval (${probeName} band ${probe.band[0]}–${probe.band[1]} ${measure}: ${ciText(probe.delta)})`;
      const outText = output ? `${row.outputMetric} change ${ciText(output)}` : '';
      if (!output) {
        row.case = 'no-data';
        row.verdict = `no items answered in both ${base} and ${c} round ${round}: no verdict`;
      } else if (outputChange === 'improved') {
        row.case = !probe?.delta ? 'output-only' : probe.changed ? 'both-changed' : 'superficial';
        row.verdict =
          row.case === 'superficial'
            ? `output improved, ${internals} — superficial by this test`
            : row.case === 'both-changed'
              ? `both changed: output improved and ${internals}`
              : 'output improved; no probe data: verdict rests on output only';
      } else {
        row.case = outputChange === 'worse' ? 'output-worse' : 'output-unchanged';
        row.verdict = `${outputChange === 'worse' ? 'output worsened' : `output unchanged within the ${level}% interval`}; ${internals ?? 'no probe data'}`;
      }
      row.restsOn = `${deltas.length} items paired with ${base}; ${outText}${probe?.delta ? `; ${probe.delta.n} items with probe scores` : ''}; percentile bootstrap, ${opts.resamples ?? 1000} resamples, seed ${opts.seed ?? 1}`;
      out.push(row);
    });
  }
  return out;
}
