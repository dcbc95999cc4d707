// Browser-safe: the viewer's page answers, shaped from what core/analysis computed (the full summary, gold ranks,
// band scores). Nothing here is science of its own: it selects, pages, filters and sorts.
import type { FullSummary } from '../analysis/analyze';
import { scorerNotes } from '../analysis/scorerNotes';
import { goldRankOf } from '../analysis/goldRank';
import { bandScore, type Band, type ProbeMeasure } from '../analysis/probes';
import { cell, roundsOf, type RunIndex } from '../analysis/runIndex';
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

/** One row per item × condition, with what the table shows and sorts by; built once per loaded run. */
export interface SampleIndexRow extends SampleRow {
  /** lower-cased text the free-text filter searches */
  haystack: string;
  hasError: boolean;
  correctFirst: boolean | null;
  correctLast: boolean | null;
}

export interface SampleIndex {
  rows: SampleIndexRow[];
  conditions: string[];
  probe: string | null;
}

export function itemText(item: Item | undefined): string {
  if (!item) return '';
  const f = item.fields;
  const main = [f.context, f.question, f.prompt, f.sentence].filter((x): x is string => typeof x === 'string' && x !== '');
  return (main.length ? main : Object.values(f)).join(' ');
}

export function buildSampleIndex(ix: RunIndex, bands: ReadonlyMap<string, Band>, measure: ProbeMeasure): SampleIndex {
  const probeEntry = [...bands.entries()][0];
  const probe = probeEntry?.[0] ?? null;
  const rows: SampleIndexRow[] = [];
  for (const condition of ix.conditions) {
    const rounds = roundsOf(ix, condition);
    const ids = new Set<string>();
    for (const r of rounds) for (const id of cell(ix, condition, r).keys()) ids.add(id);
    for (const itemId of ids) {
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
      const answers = recs.map(({ rec }) => rec?.response ?? '').join(' ');
      rows.push({
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
        haystack: `${itemId} ${text} ${answers}`.toLowerCase(),
        hasError: sr.some((x) => x.error !== undefined),
        correctFirst: present[0]?.correct ?? null,
        correctLast: present[present.length - 1]?.correct ?? null,
      });
    }
  }
  return { rows, conditions: ix.conditions, probe };
}

function sortValue(r: SampleIndexRow, key: SamplesParams['sort']['key']): number | string | null {
  switch (key) {
    case 'item':
      return r.itemId;
    case 'line':
      return r.line;
    case 'rankFirst':
      return r.rankFirst;
    case 'rankLast':
      return r.rankLast;
    case 'rankChange':
      return r.rankFirst !== null && r.rankLast !== null ? r.rankLast - r.rankFirst : null;
    case 'bandFirst':
      return r.bandFirst;
    case 'bandLast':
      return r.bandLast;
    case 'bandChange':
      return r.bandFirst !== null && r.bandLast !== null ? r.bandLast - r.bandFirst : null;
  }
}

/** One page of the sample table: filter, then sort (nulls last in either direction, ties by item and condition). */
export function querySamples(index: SampleIndex, p: SamplesParams): SamplesResult {
  const f = p.filter;
  const text = f.text?.trim().toLowerCase();
  const rows = index.rows.filter((r) => {
    if (f.condition !== undefined && r.condition !== f.condition) return false;
    if (text && !r.haystack.includes(text)) return false;
    if (f.errorsOnly && !r.hasError) return false;
    if (f.rankFirst !== undefined && r.rankFirst !== f.rankFirst) return false;
    if (f.rankChange) {
      if (r.rankFirst === null || r.rankLast === null) return false;
      const d = r.rankLast - r.rankFirst;
      if ((f.rankChange === 'improved' && d >= 0) || (f.rankChange === 'worsened' && d <= 0) || (f.rankChange === 'unchanged' && d !== 0)) return false;
    }
    if (f.flip) {
      if (r.correctFirst === null || r.correctLast === null) return false;
      const want = { 'wrong-to-right': [false, true], 'right-to-wrong': [true, false], 'stayed-right': [true, true], 'stayed-wrong': [false, false] }[f.flip];
      if (r.correctFirst !== want[0] || r.correctLast !== want[1]) return false;
    }
    return true;
  });
  const dir = p.sort.dir === 'asc' ? 1 : -1;
  const tie = (a: SampleIndexRow, b: SampleIndexRow) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0) || index.conditions.indexOf(a.condition) - index.conditions.indexOf(b.condition);
  rows.sort((a, b) => {
    const va = sortValue(a, p.sort.key);
    const vb = sortValue(b, p.sort.key);
    if (va === null || vb === null) return va === vb ? tie(a, b) : va === null ? 1 : -1;
    return (va < vb ? -dir : va > vb ? dir : 0) || tie(a, b);
  });
  const page = rows.slice(p.offset, p.offset + p.limit).map(({ haystack: _h, hasError: _e, correctFirst: _cf, correctLast: _cl, ...row }) => row);
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
