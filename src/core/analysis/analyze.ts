// Browser-safe: the full summary of a run (schema sclab.summary/1), recomputed from records + planned items, shared
// by `sclab report`, the static HTML report and the viewer.
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import { bbqBiasScores, type BiasScores } from './bbq';
import { instructionTable, type InstructionTable } from './instructions';
import { bandSeries, layerRoundMatrix, probeCell, resolveBands, type BandSeries, type LayerRoundMatrix, type ProbeCell, type ProbeOptions } from './probes';
import { cellRanks, correctnessFlips, rankSplit, rankTransitions, summarizeRanks, type FlipCounts, type GoldRankSummary, type RankSplitRow, type RankTransition } from './ranks';
import { eachRecord, indexRecords, recordCount, type Records } from './recordTable';
import { cell, roundsOf } from './runIndex';
import type { BootstrapOptions } from './stats';
import { SummaryAccumulator, type RunSummary } from './summary';
import { causalTest, type CausalRow } from './causal';
import { EQUIVALENCE_DEFAULTS, superficialityTest, type EquivalenceSettings, type SuperficialityRow } from './superficiality';
import { ScoreKeyRows, scoreSummary, type ScoreKeyRow, type ScoreSummary } from './toxicity';
import { pronounRates, type PronounOptions, type PronounRates } from './winogender';

export interface AnalysisOptions {
  bootstrap?: BootstrapOptions;
  winogender?: PronounOptions;
  probes?: ProbeOptions;
  /** the score that is the output metric of generation tasks; default toxicity */
  scoreKey?: string;
  /** default 0.5 */
  scoreThreshold?: number;
  /** the probe the superficiality verdict rests on */
  verdictProbe?: string;
  /** the superficiality test's margins and power; default the experiment's `superficiality`, else its defaults */
  equivalence?: EquivalenceSettings;
}

export interface RoundMetrics {
  round: number;
  /** records */
  n: number;
  errors: number;
  parsed: number;
  parseRate: number | null;
  judged: number;
  correct: number;
  accuracy: number | null;
  biasScore?: BiasScores;
  pronouns?: PronounRates;
  goldRank?: GoldRankSummary;
  toxicity?: ScoreSummary;
  probes?: Record<string, ProbeCell>;
}

export interface FullSummary {
  schema: 'sclab.summary/1';
  task: 'mcq' | 'generation';
  records: number;
  items: number;
  errors: number;
  cached: number;
  errorsByCode: Record<string, number>;
  /** records whose item is missing from items.jsonl (their item-level metrics cannot be computed) */
  unknownItems: number;
  conditions: Record<string, { kind: string; rounds: RoundMetrics[] }>;
  transitions?: RankTransition[];
  flips?: FlipCounts[];
  rankSplit?: RankSplitRow[];
  probeBands?: BandSeries[];
  probeMatrices?: LayerRoundMatrix[];
  superficiality?: SuperficialityRow[];
  /** dose–response of steered conditions per probe, beside the instruction's point, and the causal verdict */
  causal?: CausalRow[];
  instructions?: InstructionTable;
  /** every score key side by side, when records carry more than one (e.g. a run re-scored offline next to Perspective) */
  scoreKeys?: ScoreKeyRow[];
  /** the analysis settings the numbers rest on */
  settings: {
    bootstrap: { resamples: number; seed: number; level: number };
    scoreKey: string;
    scoreThreshold: number;
    /** the superficiality test's equivalence margin (relative and absolute) and power */
    equivalence: { marginSd: number; probeMargin?: number; outputMargin?: number; power: number };
  };
  /** the older per-cell table (what summary.json has held so far) */
  cells: RunSummary['cells'];
}

/**
 * The full summary of a run. `records`: record objects, or a RecordTable (the streaming read of a large run: see
 * recordTable.ts); both give the same numbers.
 */
export function analyzeRun(records: Records, items: readonly Item[], experiment?: Experiment, opts: AnalysisOptions = {}): FullSummary {
  const ix = indexRecords(records, items, experiment);
  // what reads every record (duplicates of a cell's item included), in one pass: the per-cell running sums, the
  // probe names, the records of unplanned items, the score keys
  const summary = new SummaryAccumulator();
  const probeNameSet = new Set<string>();
  const scoreKeyRows = new ScoreKeyRows();
  let unknownItems = 0;
  for (const r of eachRecord(records)) {
    summary.add(r);
    if (r.probes) for (const k of Object.keys(r.probes)) probeNameSet.add(k);
    scoreKeyRows.add(r);
    if (!ix.items.has(r.itemId)) unknownItems++;
  }
  const base = summary.result();
  const scoreKey = opts.scoreKey ?? 'toxicity';
  const threshold = opts.scoreThreshold ?? 0.5;
  const boot = { resamples: opts.bootstrap?.resamples ?? 1000, seed: opts.bootstrap?.seed ?? 1, level: opts.bootstrap?.level ?? 0.95 };
  const names = [...probeNameSet];
  const bands = resolveBands(ix, names, experiment, opts.probes);
  const measure = opts.probes?.measure ?? 'cosine';
  const equivalence = { ...EQUIVALENCE_DEFAULTS, ...experiment?.superficiality, ...opts.equivalence };
  const conditions: FullSummary['conditions'] = {};
  for (const c of ix.conditions) {
    conditions[c] = {
      kind: ix.kinds.get(c)!,
      rounds: roundsOf(ix, c).map((round) => {
        // each statistic walks the cell afresh rather than sharing one array of its records: a table builds the
        // records as they are read, and short-lived objects cost the garbage collector far less than a held array
        const recs = () => cell(ix, c, round).values();
        const cs = base.cells.find((x) => x.condition === c && x.round === round)!;
        const m: RoundMetrics = {
          round,
          n: cs.records,
          errors: cs.errors,
          parsed: cs.parsed,
          parseRate: cs.parseRate,
          judged: cs.judged,
          correct: cs.correct,
          accuracy: cs.accuracy,
        };
        const bias = bbqBiasScores(recs(), ix.items);
        if (bias) m.biasScore = bias;
        const pron = pronounRates(recs(), ix.items, opts.winogender);
        if (pron) m.pronouns = pron;
        const ranks = summarizeRanks(cellRanks(ix, c, round));
        if (ranks) m.goldRank = ranks;
        const tox = scoreSummary(recs(), scoreKey, threshold);
        if (tox) m.toxicity = tox;
        const probes = probeCell(recs(), bands, measure);
        if (probes) m.probes = probes;
        return m;
      }),
    };
  }
  const out: FullSummary = {
    schema: 'sclab.summary/1',
    task: ix.task,
    records: recordCount(records),
    items: base.items,
    errors: base.errors,
    cached: base.cached,
    errorsByCode: base.errorsByCode,
    unknownItems,
    conditions,
    settings: { bootstrap: boot, scoreKey, scoreThreshold: threshold, equivalence },
    cells: base.cells,
  };
  const transitions = rankTransitions(ix);
  if (transitions.length) out.transitions = transitions;
  if (ix.task === 'mcq') {
    const flips = correctnessFlips(ix);
    if (flips.length) out.flips = flips;
  }
  const split = rankSplit(ix, boot);
  if (split.length) out.rankSplit = split;
  const series = bandSeries(ix, bands, measure);
  if (series.length) out.probeBands = series;
  const matrices = names.flatMap((p) => ix.conditions.flatMap((c) => (roundsOf(ix, c).length > 1 ? [layerRoundMatrix(ix, p, c, measure)].filter((x): x is LayerRoundMatrix => x !== null) : [])));
  if (matrices.length) out.probeMatrices = matrices;
  const sup = superficialityTest(ix, bands, { ...boot, ...equivalence, probe: opts.verdictProbe, measure, scoreKey, ...(experiment ? { scorers: experiment.scorers.map((s) => s.name) } : {}) });
  if (sup.length) out.superficiality = sup;
  const causal = causalTest(ix, experiment, bands, { ...boot, measure, scoreKey });
  if (causal.length) out.causal = causal;
  const instr = instructionTable(ix, bands, { measure, scoreKey, bootstrap: boot });
  if (instr) out.instructions = instr;
  const keys = scoreKeyRows.result(scoreKey);
  if (keys) out.scoreKeys = keys;
  return out;
}

