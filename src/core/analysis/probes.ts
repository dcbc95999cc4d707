// Browser-safe: probe scores ("morality levels" of hidden states) aggregated over items: per-layer curves per round,
// the layer × round matrix, and the band mean against rounds with the baseline as reference.
import type { Experiment } from '../model/experiment';
import type { ProbeScores, RoundRecord } from '../model/record';
import { baselineOf, cell, roundsOf, type RunIndex } from './runIndex';

export type ProbeMeasure = 'cosine' | 'probability';

export interface ProbeOptions {
  /** probe name → inclusive layer band; overrides the experiment's ProbeRef.band */
  bands?: Record<string, [number, number]>;
  /** default cosine (the paper's measure) */
  measure?: ProbeMeasure;
}

export type MoralDirection = 'lower' | 'higher';

export interface Band {
  lo: number;
  hi: number;
  /** where the band came from: the analysis option, the experiment, the probe file (as recorded), or the middle third */
  source: 'option' | 'experiment' | 'probe' | 'default';
  /** the probe's sign convention: which way of its score is more moral (probe files without one: lower) */
  moralDirection: MoralDirection;
}

/** What the records say of a probe's own band and sign convention (the probe file's, written with each score). */
export interface ProbeConvention {
  band?: [number, number];
  moralDirection?: MoralDirection;
}

/** Probe names in the records of a run, in first-seen order. */
export function probeNames(records: Iterable<RoundRecord>): string[] {
  const names = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.probes ?? {})) names.add(k);
  return [...names];
}

/**
 * The band of a probe: the option, else the experiment's ProbeRef.band, else the probe file's own band (recorded
 * with its scores), else — for records older than that — the middle-to-late third of the layers seen (sorted
 * layers L, n of them: L[⌊n/2⌋] … L[⌊5n/6⌋]; for 32 layers 0–31 that is 16–26, near the paper's 15–27).
 */
export function resolveBand(name: string, layers: readonly number[], experiment?: Experiment, opts: ProbeOptions = {}, own: ProbeConvention = {}): Band | null {
  const moralDirection = own.moralDirection ?? 'lower';
  const given = opts.bands?.[name];
  if (given) return { lo: given[0], hi: given[1], source: 'option', moralDirection };
  const ref = experiment?.probes.find((p) => p.name === name)?.band;
  if (ref) return { lo: ref[0], hi: ref[1], source: 'experiment', moralDirection };
  if (own.band) return { lo: own.band[0], hi: own.band[1], source: 'probe', moralDirection };
  if (layers.length === 0) return null;
  const sorted = [...layers].sort((a, b) => a - b);
  const n = sorted.length;
  return { lo: sorted[Math.floor(n / 2)]!, hi: sorted[Math.min(n - 1, Math.floor((5 * n) / 6))]!, source: 'default', moralDirection };
}

/** The first recorded band and sign convention of a probe in the run. */
export function probeConvention(ix: RunIndex, name: string): ProbeConvention {
  const out: ProbeConvention = {};
  for (const byRound of ix.cells.values())
    for (const m of byRound.values())
      for (const r of m.values()) {
        const ps = r.probes?.[name];
        if (!ps) continue;
        out.band ??= ps.band;
        out.moralDirection ??= ps.moralDirection;
        if (out.band && out.moralDirection) return out;
      }
  return out;
}

function values(ps: ProbeScores, measure: ProbeMeasure): ReadonlyArray<number | null> | undefined {
  return measure === 'cosine' ? ps.cosine : ps.probability;
}

/** Mean of one record's scores over the band's layers; null when none of them has a value. */
export function bandScore(ps: ProbeScores | undefined, band: Band, measure: ProbeMeasure = 'cosine'): number | null {
  const v = ps && values(ps, measure);
  if (!ps || !v) return null;
  let s = 0;
  let n = 0;
  for (let i = 0; i < ps.layers.length; i++) {
    const layer = ps.layers[i]!;
    const x = v[i];
    if (layer >= band.lo && layer <= band.hi && x !== null && x !== undefined) {
      s += x;
      n++;
    }
  }
  return n > 0 ? s / n : null;
}

export interface ProbeCell {
  module: ProbeScores['module'];
  /** records with scores for this probe */
  n: number;
  layers: number[];
  /** mean cosine per layer over items (null where no item has a value) */
  cosine: Array<number | null>;
  probability?: Array<number | null>;
  band: { lo: number; hi: number; source: Band['source']; moralDirection: MoralDirection; measure: ProbeMeasure; mean: number | null; n: number };
}

function meanPerLayer(list: ProbeScores[], layers: number[], pick: (p: ProbeScores) => ReadonlyArray<number | null> | undefined): Array<number | null> {
  // layer numbers are small integers: a dense lookup table beats a Map in this per-record, per-layer loop
  const pos = new Int32Array((layers[layers.length - 1] ?? 0) + 1).fill(-1);
  layers.forEach((l, i) => (pos[l] = i));
  const sum = new Float64Array(layers.length);
  const cnt = new Uint32Array(layers.length);
  for (const p of list) {
    const v = pick(p);
    if (!v) continue;
    const ls = p.layers;
    for (let i = 0; i < ls.length; i++) {
      const x = v[i];
      if (x === null || x === undefined) continue;
      const k = pos[ls[i]!]!;
      sum[k] = sum[k]! + x;
      cnt[k] = cnt[k]! + 1;
    }
  }
  return Array.from(sum, (s, k) => (cnt[k]! > 0 ? s / cnt[k]! : null));
}

/** Layers a probe was scored at anywhere in the run (bands default from them). */
export function probeLayers(ix: RunIndex, name: string): number[] {
  const set = new Set<number>();
  for (const byRound of ix.cells.values()) for (const m of byRound.values()) for (const r of m.values()) for (const l of r.probes?.[name]?.layers ?? []) set.add(l);
  return [...set].sort((a, b) => a - b);
}

/** Per-layer curves and the band mean of every probe in one condition × round. */
export function probeCell(records: Iterable<RoundRecord>, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure = 'cosine'): Record<string, ProbeCell> | undefined {
  const by = new Map<string, ProbeScores[]>();
  for (const r of records) {
    if (r.error || !r.probes) continue;
    for (const [name, ps] of Object.entries(r.probes)) {
      if (!by.has(name)) by.set(name, []);
      by.get(name)!.push(ps);
    }
  }
  if (by.size === 0) return undefined;
  const out: Record<string, ProbeCell> = {};
  for (const [name, list] of by) {
    const seen = new Set<number>();
    for (const p of list) for (const l of p.layers) seen.add(l);
    const layers = [...seen].sort((a, b) => a - b);
    const band = bands.get(name) ?? resolveBand(name, layers, undefined, {}, { band: list[0]!.band, moralDirection: list[0]!.moralDirection })!;
    const scores = list.map((p) => bandScore(p, band, measure)).filter((x): x is number => x !== null);
    const c: ProbeCell = {
      module: list[0]!.module,
      n: list.length,
      layers,
      cosine: meanPerLayer(list, layers, (p) => p.cosine),
      band: { lo: band.lo, hi: band.hi, source: band.source, moralDirection: band.moralDirection, measure, mean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null, n: scores.length },
    };
    if (list.some((p) => p.probability)) c.probability = meanPerLayer(list, layers, (p) => p.probability);
    out[name] = c;
  }
  return out;
}

export function resolveBands(ix: RunIndex, names: readonly string[], experiment?: Experiment, opts: ProbeOptions = {}): Map<string, Band> {
  const out = new Map<string, Band>();
  for (const n of names) {
    const b = resolveBand(n, probeLayers(ix, n), experiment, opts, probeConvention(ix, n));
    if (b) out.set(n, b);
  }
  return out;
}

export interface LayerRoundMatrix {
  probe: string;
  condition: string;
  measure: ProbeMeasure;
  layers: number[];
  rounds: number[];
  /** values[i][j] = mean score at layers[i] in rounds[j] */
  values: Array<Array<number | null>>;
}

/** The layer × round matrix of one probe in one condition. */
export function layerRoundMatrix(ix: RunIndex, probe: string, condition: string, measure: ProbeMeasure = 'cosine'): LayerRoundMatrix | null {
  const rounds = roundsOf(ix, condition);
  const layers = probeLayers(ix, probe);
  if (layers.length === 0 || rounds.length === 0) return null;
  const cols = rounds.map((r) => {
    const list: ProbeScores[] = [];
    for (const rec of cell(ix, condition, r).values()) if (!rec.error && rec.probes?.[probe]) list.push(rec.probes[probe]);
    return meanPerLayer(list, layers, (p) => values(p, measure));
  });
  if (cols.every((col) => col.every((v) => v === null))) return null;
  return { probe, condition, measure, layers, rounds, values: layers.map((_, i) => cols.map((col) => col[i]!)) };
}

export interface BandSeries {
  probe: string;
  band: Band;
  measure: ProbeMeasure;
  /** the baseline condition's band mean (round 0), the reference line */
  baseline: number | null;
  conditions: Array<{ condition: string; points: Array<{ round: number; mean: number | null; n: number }> }>;
}

/** Band means against rounds for every probe, with the baseline as reference. */
export function bandSeries(ix: RunIndex, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure = 'cosine'): BandSeries[] {
  const base = baselineOf(ix);
  const out: BandSeries[] = [];
  for (const [probe, band] of bands) {
    const point = (c: string, round: number) => {
      // the cell walked, not held as an array of records (a table builds each as it is read)
      let sum = 0;
      let n = 0;
      for (const r of cell(ix, c, round).values()) {
        const s = r.error ? null : bandScore(r.probes?.[probe], band, measure);
        if (s === null) continue;
        sum += s;
        n++;
      }
      return { round, mean: n ? sum / n : null, n };
    };
    const conditions = ix.conditions.map((c) => ({ condition: c, points: roundsOf(ix, c).map((r) => point(c, r)) })).filter((c) => c.points.some((p) => p.n > 0));
    if (conditions.length === 0) continue;
    out.push({ probe, band, measure, baseline: base ? point(base, 0).mean : null, conditions });
  }
  return out;
}
