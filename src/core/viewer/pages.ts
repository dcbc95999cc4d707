// Browser-safe: the viewer's page answers, shaped from what core/analysis computed (the full summary, gold ranks,
// band scores). Nothing here is science of its own: it selects, pages, filters and sorts.
import type { FullSummary } from '../analysis/analyze';
import { scorerNotes } from '../analysis/scorerNotes';
import { goldRankOf } from '../analysis/goldRank';
import { bandScore, type Band, type ProbeMeasure } from '../analysis/probes';
import { cell, indexRun, roundsOf, type RunIndex } from '../analysis/runIndex';
import type { Item } from '../model/item';
import type { RunManifest } from '../model/manifest';
import type { RoundRecord } from '../model/record';
import type {
  CausalResult,
  InstructionsResult,
  ItemResult,
  ItemRound,
  OverviewResult,
  ProbeCurve,
  ProbesResult,
  RanksResult,
  RunInfo,
  SampleRow,
  SamplesParams,
  SamplesResult,
} from './protocol';
import { wordDiff } from './wordDiff';

export function runInfo(manifest: RunManifest, name: string, tornBytes: number): RunInfo {
  const e = manifest.experiment;
  const info: RunInfo = {
    id: manifest.id,
    name,
    status: manifest.status,
    createdAt: manifest.createdAt,
    updatedAt: manifest.updatedAt,
    toolVersion: manifest.toolVersion,
    experiment: { name: e.name, task: e.task, ...(e.preset ? { preset: e.preset } : {}) },
    dataset: { path: manifest.dataset.path, items: manifest.dataset.items, format: manifest.dataset.format },
    backend: { kind: manifest.backend.kind, model: manifest.backend.model, capabilities: manifest.backend.capabilities, notes: manifest.backend.notes },
    counts: manifest.counts,
    tornBytes,
  };
  if (manifest.failure) info.failure = manifest.failure;
  return info;
}

const NO_RANKS =
  'this run has no gold ranks: its records carry neither option log-likelihoods nor top-k log-probabilities (generation tasks have no options to rank). Use a backend with optionLogprobs (the embedded engine, or an OpenAI-compatible server with completions echo) to see rank shifts.';
const NO_PROBES =
  'this run has no probe scores: configure probes in the experiment (probes: [{ name, path: my.probe.json }]) and use a backend with the hiddenStates capability (the embedded engine or a sidecar).';
const NO_INSTRUCTIONS = 'this run has no instruction variants: add conditions of kind "variant" (one per instruction wording) to compare instructions against the probe level they induce.';

export function overviewFrom(summary: FullSummary, manifest: RunManifest, info: RunInfo, hasCompare: boolean): OverviewResult {
  const exp = manifest.experiment;
  const conditions = Object.entries(summary.conditions).map(([name, c]) => {
    const desc = exp.conditions.find((x) => x.name === name)?.description;
    return { name, kind: c.kind, rounds: c.rounds, ...(desc ? { description: desc } : {}) };
  });
  const rounds = conditions.flatMap((c) => c.rounds);
  const available = {
    ranks: rounds.some((r) => r.goldRank !== undefined),
    probes: rounds.some((r) => r.probes !== undefined),
    instructions: summary.instructions !== undefined,
    causal: (summary.causal?.length ?? 0) > 0,
    compare: hasCompare,
    toxicity: rounds.some((r) => r.toxicity !== undefined),
    bias: rounds.some((r) => r.biasScore !== undefined),
    pronouns: rounds.some((r) => r.pronouns !== undefined),
  };
  const notes: string[] = [];
  if (summary.records === 0) notes.push('this run has no records yet.');
  if (manifest.status !== 'completed') notes.push(`the run is ${manifest.status}: ${summary.records} of ${manifest.counts.planned} planned records are in; numbers will change.`);
  if (info.tornBytes > 0) notes.push(`a torn last line of ${info.tornBytes} bytes in records.jsonl was ignored (a crash mid-write); resume the run to redo it.`);
  if (summary.unknownItems > 0) notes.push(`${summary.unknownItems} records name items missing from items.jsonl: their item-level metrics (bias, pronouns, approximate ranks) are not computed.`);
  if (summary.errors > 0) notes.push(`${summary.errors} records are errors (${Object.entries(summary.errorsByCode).map(([k, v]) => `${k} ${v}`).join(', ')}); they are left out of every metric.`);
  if (!available.ranks && exp.task === 'mcq') notes.push(NO_RANKS);
  if (!available.probes) notes.push(NO_PROBES);
  notes.push(...scorerNotes(manifest, { key: summary.settings.scoreKey, hasScores: available.toxicity }));
  const methods = new Set(rounds.flatMap((r) => (r.goldRank ? [r.goldRank.method] : [])));
  if (methods.has('approximate') || methods.has('mixed')) notes.push('some gold ranks are approximate (from the first answer tokens\' top-k log-probabilities): options outside the top k tie for last.');
  return {
    run: info,
    conditions,
    totals: { records: summary.records, items: summary.items, errors: summary.errors, cached: summary.cached, errorsByCode: summary.errorsByCode, unknownItems: summary.unknownItems },
    available,
    notes,
    settings: summary.settings,
    ...(summary.scoreKeys ? { scoreKeys: summary.scoreKeys } : {}),
  };
}

export function ranksFrom(summary: FullSummary): RanksResult {
  const distributions = Object.entries(summary.conditions)
    .map(([condition, c]) => ({ condition, kind: c.kind, rounds: c.rounds.flatMap((r) => (r.goldRank ? [{ round: r.round, summary: r.goldRank }] : [])) }))
    .filter((d) => d.rounds.length > 0);
  if (distributions.length === 0) return { available: false, reason: summary.task === 'generation' ? 'this is a generation run: there are no options, so no gold ranks.' : NO_RANKS };
  return { available: true, distributions, transitions: summary.transitions ?? [], flips: summary.flips ?? [], rankSplit: summary.rankSplit ?? [], bootstrap: summary.settings.bootstrap };
}

export function probesFrom(summary: FullSummary): ProbesResult {
  const curves: ProbeCurve[] = [];
  let measure: ProbeMeasure = 'cosine';
  for (const [condition, c] of Object.entries(summary.conditions)) {
    for (const r of c.rounds) {
      for (const [probe, pc] of Object.entries(r.probes ?? {})) {
        measure = pc.band.measure;
        const values = measure === 'cosine' ? pc.cosine : (pc.probability ?? pc.layers.map(() => null));
        curves.push({ probe, condition, round: r.round, n: pc.n, layers: pc.layers, values, band: { lo: pc.band.lo, hi: pc.band.hi, mean: pc.band.mean } });
      }
    }
  }
  if (curves.length === 0) return { available: false, reason: NO_PROBES };
  return {
    available: true,
    measure,
    probes: [...new Set(curves.map((c) => c.probe))],
    curves,
    matrices: summary.probeMatrices ?? [],
    bands: summary.probeBands ?? [],
    superficiality: summary.superficiality ?? [],
    bootstrap: summary.settings.bootstrap,
  };
}

const NO_CAUSAL =
  'this run steers nothing: give a condition an intervention ({probe, layers: "a-b", alpha: [-4, 0, 4]}) beside a baseline, with a backend that can steer (the embedded engine or a sidecar with the steer capability), to see whether the output follows the probe direction.';

export function causalFrom(summary: FullSummary): CausalResult {
  return summary.causal?.length ? { available: true, rows: summary.causal, level: summary.settings.bootstrap.level } : { available: false, reason: NO_CAUSAL };
}

export function instructionsFrom(summary: FullSummary): InstructionsResult {
  return summary.instructions ? { available: true, table: summary.instructions } : { available: false, reason: NO_INSTRUCTIONS };
}

// ---------------------------------------------------------------- samples

/**
 * The samples table's index: one row per item × condition, held as typed arrays of what the table filters and sorts
 * by (about 40 bytes a row, no object per row). Row objects are built only for the page shown. The free-text filter
 * searches the item's id and text and the row's answers; answers are not held: `TextSearch` reads an item's lines
 * from records.jsonl (by its byte offsets) when its id and text alone do not match.
 */
export interface SampleIndex {
  ix: RunIndex;
  conditions: string[];
  /** the probe whose band score the rows carry (the first), its band and the measure */
  probe: string | null;
  band: Band | null;
  measure: ProbeMeasure;
  /** each condition's rounds (roundsOf) */
  rounds: number[][];
  size: number;
  /** item ids of the rows, in first-seen order; rowItem indexes this */
  itemIds: string[];
  rowItem: Int32Array;
  rowCondition: Int32Array;
  /** 0 = null */
  rankFirst: Int32Array;
  rankLast: Int32Array;
  /** NaN = null (band scores are means of JSON numbers: never NaN) */
  bandFirst: Float64Array;
  bandLast: Float64Array;
  /** -1 null, 0 false, 1 true */
  correctFirst: Int8Array;
  correctLast: Int8Array;
  hasError: Uint8Array;
  /** the last text filter's rows (lower-cased query → row matches), so that paging through it reads nothing again */
  textCache?: { text: string; matches: Uint8Array };
}

/** Reads one item's whole records (all its lines), for the free-text filter. */
export type ItemRecordsReader = (itemId: string) => Promise<RoundRecord[]>;

export function itemText(item: Item | undefined): string {
  if (!item) return '';
  const f = item.fields;
  const main = [f.context, f.question, f.prompt, f.sentence].filter((x): x is string => typeof x === 'string' && x !== '');
  return (main.length ? main : Object.values(f)).join(' ');
}

type Probe = [string, Band] | undefined;

/** What one row shows and is filtered by, from the records of its item in its condition (one per round, or none). */
function sampleRow(ix: RunIndex, condition: string, rounds: readonly number[], itemId: string, probeEntry: Probe, measure: ProbeMeasure) {
  const item = ix.items.get(itemId);
  const cat = item?.meta.category;
  const recs = rounds.map((round) => ({ round, rec: cell(ix, condition, round).get(itemId) }));
  const sr = recs.map(({ round, rec }) => {
    const g = rec ? goldRankOf(rec, item) : null;
    return {
      round,
      answer: rec?.answer?.label ?? null,
      correct: rec && !rec.error ? rec.correct : null,
      goldRank: g?.rank ?? null,
      band: rec && !rec.error && probeEntry ? bandScore(rec.probes?.[probeEntry[0]], probeEntry[1], measure) : null,
      ...(rec?.error ? { error: `${rec.error.code}: ${rec.error.message}` } : {}),
    };
  });
  const present = sr.filter((_, k) => recs[k]!.rec !== undefined);
  const text = itemText(item);
  const row: SampleRow = {
    itemId,
    condition,
    line: item?.source.line ?? null,
    preview: text.length > 240 ? `${text.slice(0, 239)}…` : text,
    ...(typeof cat === 'string' ? { category: cat } : {}),
    rounds: sr,
    rankFirst: present[0]?.goldRank ?? null,
    rankLast: present[present.length - 1]?.goldRank ?? null,
    bandFirst: present[0]?.band ?? null,
    bandLast: present[present.length - 1]?.band ?? null,
  };
  return {
    row,
    hasError: sr.some((x) => x.error !== undefined),
    correctFirst: present[0]?.correct ?? null,
    correctLast: present[present.length - 1]?.correct ?? null,
  };
}

/** The text the free-text filter searches in a row: item id, item text, the answers of its rounds. */
function haystack(itemId: string, item: Item | undefined, rounds: readonly number[], answerAt: (round: number) => string | undefined): string {
  const answers = rounds.map((round) => answerAt(round) ?? '').join(' ');
  return `${itemId} ${itemText(item)} ${answers}`.toLowerCase();
}

const int8 = (b: boolean | null): number => (b === null ? -1 : b ? 1 : 0);
const fromInt8 = (v: number): boolean | null => (v < 0 ? null : v === 1);

export function buildSampleIndex(ix: RunIndex, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure): SampleIndex {
  const probeEntry = [...bands.entries()][0];
  const probe = probeEntry?.[0] ?? null;
  const rounds = ix.conditions.map((c) => roundsOf(ix, c));
  const perCondition = ix.conditions.map((condition, k) => {
    const ids = new Set<string>();
    for (const r of rounds[k]!) for (const id of cell(ix, condition, r).keys()) ids.add(id);
    return ids;
  });
  const size = perCondition.reduce((n, ids) => n + ids.size, 0);
  const itemIds: string[] = [];
  const itemIndex = new Map<string, number>();
  const index: SampleIndex = {
    ix,
    conditions: ix.conditions,
    probe,
    band: probeEntry?.[1] ?? null,
    measure,
    rounds,
    size,
    itemIds,
    rowItem: new Int32Array(size),
    rowCondition: new Int32Array(size),
    rankFirst: new Int32Array(size),
    rankLast: new Int32Array(size),
    bandFirst: new Float64Array(size),
    bandLast: new Float64Array(size),
    correctFirst: new Int8Array(size),
    correctLast: new Int8Array(size),
    hasError: new Uint8Array(size),
  };
  let row = 0;
  ix.conditions.forEach((condition, k) => {
    for (const itemId of perCondition[k]!) {
      let i = itemIndex.get(itemId);
      if (i === undefined) {
        i = itemIds.length;
        itemIds.push(itemId);
        itemIndex.set(itemId, i);
      }
      const s = sampleRow(ix, condition, rounds[k]!, itemId, probeEntry, measure);
      index.rowItem[row] = i;
      index.rowCondition[row] = k;
      index.rankFirst[row] = s.row.rankFirst ?? 0;
      index.rankLast[row] = s.row.rankLast ?? 0;
      index.bandFirst[row] = s.row.bandFirst ?? NaN;
      index.bandLast[row] = s.row.bandLast ?? NaN;
      index.correctFirst[row] = int8(s.correctFirst);
      index.correctLast[row] = int8(s.correctLast);
      index.hasError[row] = s.hasError ? 1 : 0;
      row++;
    }
  });
  return index;
}

/**
 * Rows whose search text contains `text` (lower-cased): an item's id and text are in memory; where they do not
 * contain it, the item's answers are read from its lines (one item at a time), so memory stays bounded.
 */
async function textMatches(index: SampleIndex, text: string, readItem: ItemRecordsReader | undefined): Promise<Uint8Array> {
  if (index.textCache?.text === text) return index.textCache.matches;
  const { ix } = index;
  const matches = new Uint8Array(index.size);
  // rows by item, so that each item's lines are read once for all its conditions
  const rowsOf: number[][] = index.itemIds.map(() => []);
  for (let row = 0; row < index.size; row++) rowsOf[index.rowItem[row]!]!.push(row);
  for (let i = 0; i < index.itemIds.length; i++) {
    const itemId = index.itemIds[i]!;
    const item = ix.items.get(itemId);
    const rows = rowsOf[i]!;
    // the id and item text come first in the search text: containing the query there is containing it
    if (`${itemId} ${itemText(item)}`.toLowerCase().includes(text)) {
      for (const row of rows) matches[row] = 1;
      continue;
    }
    // the item's own records, the last line of each condition × round winning, as in the run index
    const own = readItem ? indexRun(await readItem(itemId), [], undefined) : ix;
    for (const row of rows) {
      const k = index.rowCondition[row]!;
      const condition = index.conditions[k]!;
      const hay = haystack(itemId, item, index.rounds[k]!, (round) => cell(own, condition, round).get(itemId)?.response);
      if (hay.includes(text)) matches[row] = 1;
    }
  }
  index.textCache = { text, matches };
  return matches;
}

type SortKey = SamplesParams['sort']['key'];

function sortValue(index: SampleIndex, row: number, key: SortKey): number | string | null {
  const rank = (v: number) => (v === 0 ? null : v);
  const band = (v: number) => (Number.isNaN(v) ? null : v);
  switch (key) {
    case 'item':
      return index.itemIds[index.rowItem[row]!]!;
    case 'line':
      return index.ix.items.get(index.itemIds[index.rowItem[row]!]!)?.source.line ?? null;
    case 'rankFirst':
      return rank(index.rankFirst[row]!);
    case 'rankLast':
      return rank(index.rankLast[row]!);
    case 'rankChange': {
      const a = rank(index.rankFirst[row]!);
      const b = rank(index.rankLast[row]!);
      return a !== null && b !== null ? b - a : null;
    }
    case 'bandFirst':
      return band(index.bandFirst[row]!);
    case 'bandLast':
      return band(index.bandLast[row]!);
    case 'bandChange': {
      const a = band(index.bandFirst[row]!);
      const b = band(index.bandLast[row]!);
      return a !== null && b !== null ? b - a : null;
    }
  }
}

const FLIPS = { 'wrong-to-right': [false, true], 'right-to-wrong': [true, false], 'stayed-right': [true, true], 'stayed-wrong': [false, false] } as const;

/**
 * One page of the sample table: filter, then sort (nulls last in either direction, ties by item and condition); the
 * page's rows are built from the run index. `readItem` reads an item's lines for the free-text filter (without it,
 * the index's own records are searched, which is the same when they keep their responses).
 */
export async function querySamples(index: SampleIndex, p: SamplesParams, readItem?: ItemRecordsReader): Promise<SamplesResult> {
  const f = p.filter;
  const text = f.text?.trim().toLowerCase();
  const condition = f.condition === undefined ? -2 : index.conditions.indexOf(f.condition);
  const matches = text ? await textMatches(index, text, readItem) : null;
  const rows: number[] = [];
  for (let row = 0; row < index.size; row++) {
    if (condition !== -2 && index.rowCondition[row] !== condition) continue;
    if (matches && !matches[row]) continue;
    if (f.errorsOnly && !index.hasError[row]) continue;
    const rankFirst = index.rankFirst[row]!;
    const rankLast = index.rankLast[row]!;
    if (f.rankFirst !== undefined && rankFirst !== f.rankFirst) continue;
    if (f.rankChange) {
      if (rankFirst === 0 || rankLast === 0) continue;
      const d = rankLast - rankFirst;
      if ((f.rankChange === 'improved' && d >= 0) || (f.rankChange === 'worsened' && d <= 0) || (f.rankChange === 'unchanged' && d !== 0)) continue;
    }
    if (f.flip) {
      const first = fromInt8(index.correctFirst[row]!);
      const last = fromInt8(index.correctLast[row]!);
      if (first === null || last === null) continue;
      const want = FLIPS[f.flip];
      if (first !== want[0] || last !== want[1]) continue;
    }
    rows.push(row);
  }
  const dir = p.sort.dir === 'asc' ? 1 : -1;
  const id = (row: number) => index.itemIds[index.rowItem[row]!]!;
  const tie = (a: number, b: number) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0) || index.rowCondition[a]! - index.rowCondition[b]!;
  const key = p.sort.key;
  rows.sort((a, b) => {
    const va = sortValue(index, a, key);
    const vb = sortValue(index, b, key);
    if (va === null || vb === null) return va === vb ? tie(a, b) : va === null ? 1 : -1;
    return (va < vb ? -dir : va > vb ? dir : 0) || tie(a, b);
  });
  const probeEntry: Probe = index.probe === null || index.band === null ? undefined : [index.probe, index.band];
  const page = rows.slice(p.offset, p.offset + p.limit).map((row) => {
    const k = index.rowCondition[row]!;
    return sampleRow(index.ix, index.conditions[k]!, index.rounds[k]!, id(row), probeEntry, index.measure).row;
  });
  return { total: rows.length, offset: p.offset, limit: p.limit, rows: page, conditions: index.conditions, probe: index.probe };
}

// ---------------------------------------------------------------- one item

function itemRound(rec: RoundRecord, item: Item | undefined, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure): ItemRound {
  const g = goldRankOf(rec, item);
  const lastUser = [...rec.messages].reverse().find((m) => m.role === 'user');
  const probes: ItemRound['probes'] = {};
  for (const [name, ps] of Object.entries(rec.probes ?? {})) {
    const band = bands.get(name);
    probes[name] = { layers: ps.layers, values: measure === 'cosine' ? ps.cosine : (ps.probability ?? ps.layers.map(() => null)), band: band ? bandScore(ps, band, measure) : null };
  }
  const scores: ItemRound['scores'] = {};
  for (const [k, s] of Object.entries(rec.scores ?? {})) scores[k] = { value: s.value, scorer: `${s.scorer}@${s.version}` };
  return {
    round: rec.round,
    user: lastUser?.content ?? '',
    prefill: rec.prefill,
    response: rec.response,
    answer: rec.answer?.label ?? null,
    correct: rec.error ? null : rec.correct,
    goldRank: g?.rank ?? null,
    rankMethod: g?.method ?? null,
    rankCensored: g?.censored ?? false,
    optionLogprobs: rec.optionScores?.logprobs ?? null,
    probes,
    scores,
    ...(rec.error ? { error: rec.error } : {}),
    latencyMs: rec.latencyMs,
    cached: rec.cached,
  };
}

/** One item across conditions and rounds, with the word diffs between consecutive answers; null if unknown. */
export function itemDetail(ix: RunIndex, itemId: string, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure): ItemResult | null {
  const item = ix.items.get(itemId);
  const conditions: ItemResult['conditions'] = [];
  for (const condition of ix.conditions) {
    const recs = roundsOf(ix, condition).flatMap((r) => {
      const rec = cell(ix, condition, r).get(itemId);
      return rec ? [rec] : [];
    });
    if (recs.length === 0) continue;
    const rounds = recs.map((r) => itemRound(r, item, bands, measure));
    const diffs = rounds.slice(1).map((r, k) => ({ from: rounds[k]!.round, to: r.round, ops: wordDiff(rounds[k]!.response, r.response) }));
    conditions.push({ condition, kind: ix.kinds.get(condition) ?? 'control', rounds, diffs });
  }
  if (!item && conditions.length === 0) return null;
  const first = [...bands.entries()][0];
  return {
    item: {
      id: itemId,
      kind: item?.kind ?? 'mcq',
      source: item?.source ?? null,
      fields: item?.fields ?? {},
      choices: item?.choices ?? [],
      choiceLabels: item?.choiceLabels ?? [],
      answer: item?.answer ?? null,
    },
    probe: first ? { name: first[0], lo: first[1].lo, hi: first[1].hi, measure } : null,
    conditions,
  };
}
