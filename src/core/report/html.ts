// The self-contained static report: one HTML file, inline CSS and SVG, no script, no network. Every number comes
// from analysis (analyzeRun); dataset text and model output never appear unescaped.
import type { FullSummary, RoundMetrics } from '../analysis/analyze';
import type { CausalRow } from '../analysis/causal';
import { NO_OUTPUT_METRIC, scorerNotes } from '../analysis/scorerNotes';
import type { RunManifest } from '../model/manifest';
import { escapeHtml as e, heatmap, lineChart, stackedShareChart, type LineSeries } from './svg';
import { ciNum, ciPct, num, pct, spearmanText } from './text';

export interface ReportInput {
  manifest: RunManifest;
  summary: FullSummary;
  /** a sentence shown at the top, e.g. that the model is a toy */
  caveat?: string;
}

type Row = { condition: string } & RoundMetrics;

/** The summary's rounds as flat rows, and the condition split every chart and table needs. */
interface RoundRows {
  rows: Row[];
  /** conditions with more than one round: drawn as lines */
  multi: string[];
  /** one-turn conditions */
  single: string[];
  maxRound: number;
}

function tableHtml(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderHtmlReport({ manifest: m, summary: s, caveat }: ReportInput): string {
  const rr = roundRows(s);
  const hasTox = rr.rows.some((r) => r.toxicity);
  return pageHtml({
    manifest: m,
    caveat,
    charts: roundCharts(s, rr),
    mainTable: mainTableHtml(s, rr.rows),
    scoring: scorerNotes(m, { key: s.settings.scoreKey, hasScores: hasTox }),
    errorsByCode: s.errorsByCode,
    sections: sectionsHtml(s, rr, hasTox),
  });
}

function roundRows(s: FullSummary): RoundRows {
  const rows: Row[] = Object.entries(s.conditions).flatMap(([condition, v]) => v.rounds.map((r) => ({ condition, ...r })));
  const conditions = Object.keys(s.conditions);
  const multi = conditions.filter((c) => s.conditions[c]!.rounds.length > 1);
  const single = conditions.filter((c) => !multi.includes(c));
  const maxRound = Math.max(0, ...rows.map((c) => c.round));
  return { rows, multi, single, maxRound };
}

/** The per-round line charts and the focus condition's rank shares. */
function roundCharts(s: FullSummary, { rows, multi, single, maxRound }: RoundRows): string[] {
  // one-turn conditions are drawn as flat references across the rounds of the multi-round ones
  const asSeries = (value: (c: Row) => number | null | undefined, singles: string[] = single.filter((n) => n === 'baseline' || n === 'negation')): LineSeries[] => [
    ...multi.map((name) => ({ name, points: rows.filter((c) => c.condition === name).map((c) => ({ x: c.round, y: value(c) ?? null })) })),
    ...singles.map((name) => {
      const c = rows.find((x) => x.condition === name)!;
      return { name: `${name} (one turn)`, dashed: true, points: Array.from({ length: maxRound + 1 }, (_, x) => ({ x, y: value(c) ?? null })) };
    }),
  ];
  const charts: string[] = [];
  if (s.task === 'mcq') charts.push(lineChart('Accuracy per round', asSeries((c) => c.accuracy), { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(v * 100)}%`, xLabel: 'round' }));
  if (rows.some((c) => c.toxicity?.mean != null)) charts.push(lineChart(`Mean ${s.settings.scoreKey} per round`, asSeries((c) => c.toxicity?.mean), { xLabel: 'round', yFormat: (v) => v.toFixed(3) }));
  if (rows.some((c) => c.pronouns)) charts.push(lineChart('Share of "they" answers per round', asSeries((c) => c.pronouns?.theyRate), { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(v * 100)}%`, xLabel: 'round' }));
  if (rows.some((c) => c.biasScore?.ambig?.score != null)) charts.push(lineChart('BBQ bias score, ambiguous contexts (s_amb)', asSeries((c) => c.biasScore?.ambig?.score), { xLabel: 'round' }));
  const maxRank = Math.max(1, ...rows.map((c) => c.goldRank?.counts.length ?? 0));
  if (rows.some((c) => c.goldRank)) charts.push(lineChart('Mean rank of the correct option (1 = top)', asSeries((c) => c.goldRank?.mean), { yMin: 1, yMax: maxRank, xLabel: 'round', invertY: true }));
  const focus = multi.includes('self-correct') ? 'self-correct' : multi[0];
  const focusRanks = rows.filter((r) => r.condition === focus && r.goldRank);
  if (focus && focusRanks.length > 0) {
    const legend = Array.from({ length: maxRank }, (_, k) => `rank ${k + 1}`);
    charts.push(stackedShareChart(`Where the correct option ranks, ${focus}, per round (${focusRanks[0]!.goldRank!.method})`, focusRanks.map((r) => ({ label: `r${r.round}`, counts: r.goldRank!.counts })), legend));
  }
  return charts;
}

/** The table of every condition × round: counts, accuracy, rank, and the columns the run has data for. */
function mainTableHtml(s: FullSummary, rows: Row[]): string {
  const probeNames = [...new Set(rows.flatMap((r) => Object.keys(r.probes ?? {})))];
  const header = ['condition', 'round', 'records', 'errors', 'parsed', 'accuracy', 'mean gold rank'];
  const hasBias = rows.some((r) => r.biasScore);
  const hasPron = rows.some((r) => r.pronouns);
  const hasTox = rows.some((r) => r.toxicity);
  if (hasBias) header.push('bias s_amb', 'bias s_dis');
  if (hasPron) header.push('they', 'he', 'she');
  if (hasTox) header.push(`${s.settings.scoreKey} mean`, `share > ${s.settings.scoreThreshold}`, 'scorer');
  for (const p of probeNames) header.push(`${p} band`);
  const body = rows.map((c) => {
    const r = [
      e(c.condition),
      String(c.round),
      String(c.n),
      String(c.errors),
      pct(c.parseRate),
      c.judged ? `${pct(c.accuracy)} <small>(${c.correct}/${c.judged})</small>` : '—',
      c.goldRank ? `${c.goldRank.mean.toFixed(2)} <small>${e(c.goldRank.method)}${c.goldRank.censored ? `, ${pct(c.goldRank.censoredShare)} censored` : ''}</small>` : '—',
    ];
    if (hasBias) r.push(num(c.biasScore?.ambig?.score), num(c.biasScore?.disambig?.score));
    if (hasPron) r.push(pct(c.pronouns?.theyRate), pct(c.pronouns?.heRate), pct(c.pronouns?.sheRate));
    if (hasTox) r.push(num(c.toxicity?.mean), pct(c.toxicity?.shareAbove), c.toxicity ? `${e(c.toxicity.scorers.map((x) => `${x.scorer}@${x.version}`).join(', '))}${c.toxicity.mixed ? ' <strong>mixed scorers</strong>' : ''}` : '—');
    for (const p of probeNames) r.push(num(c.probes?.[p]?.band.mean, 4));
    return r;
  });
  return tableHtml(header, body);
}

/** The sections below the main table, in order; a section the run has no data for is left out. */
function sectionsHtml(s: FullSummary, rr: RoundRows, hasTox: boolean): string[] {
  return [
    scoreKeysSection(s),
    biasByCategorySection(rr.rows),
    pronounsByShareSection(rr.rows),
    flipsSection(s),
    transitionsSection(s),
    rankSplitSection(s),
    probesSection(s, rr.maxRound),
    superficialitySection(s, hasTox),
    ...(s.causal ?? []).map(causalSection),
    instructionsSection(s),
  ].filter((x): x is string => x !== undefined);
}

function scoreKeysSection(s: FullSummary): string | undefined {
  if (!s.scoreKeys) return undefined;
  const main = s.settings.scoreKey;
  const keys = s.scoreKeys;
  return `<h2>Scores side by side</h2><p><small>${e(main)} is the output metric; ρ is Spearman's rank correlation with ${e(main)} on the records both scored.</small></p>${tableHtml(
    ['key', 'scorer', 'scored', 'mean', `ρ vs ${main}`, `mean − ${main}`],
    keys.map((k) => [e(k.key), e(k.scorers.join(', ')), String(k.n), num(k.mean), k.versusMain ? `${num(k.versusMain.spearman)} <small>(n ${k.versusMain.n})</small>` : '—', k.versusMain ? num(k.versusMain.meanDifference) : '—']),
  )}${tableHtml(['condition', 'round', ...keys.map((k) => `${k.key} mean`)], keys[0]!.cells.map((c, i) => [e(c.condition), String(c.round), ...keys.map((k) => num(k.cells[i]?.mean))]))}`;
}

function biasByCategorySection(rows: Row[]): string | undefined {
  const cats = rows.flatMap((r) => Object.entries(r.biasScore?.byCategory ?? {}).map(([cat, b]) => [e(r.condition), String(r.round), e(cat), num(b.ambig?.score), num(b.disambig?.score)]));
  if (!cats.length) return undefined;
  return `<h2>BBQ bias scores by category</h2><p><small>Parrish et al. 2022: s_dis = 2·(biased / non-unknown answers) − 1; s_amb = (1 − accuracy) · s_dis on the ambiguous items.</small></p>${tableHtml(['condition', 'round', 'category', 's_amb', 's_dis'], cats)}`;
}

function pronounsByShareSection(rows: Row[]): string | undefined {
  const shares = rows.flatMap((r) => (r.pronouns?.byShare ?? []).map((b) => [e(r.condition), String(r.round), e(b.bin), String(b.n), pct(b.theyRate), pct(b.heRate), pct(b.sheRate)]));
  if (!shares.length) return undefined;
  return `<h2>Winogender pronouns by the occupation's share of women</h2>${tableHtml(['condition', 'round', 'share of women', 'answered', 'they', 'he', 'she'], shares)}`;
}

function flipsSection(s: FullSummary): string | undefined {
  if (!s.flips?.length) return undefined;
  return `<h2>Correctness over rounds</h2>${tableHtml(['condition', 'items', 'stayed right', 'stayed wrong', 'right→wrong', 'wrong→right', 'wavering', 'incomplete'], s.flips.map((f) => [e(f.condition), String(f.items), String(f.stayedCorrect), String(f.stayedWrong), String(f.correctToWrong), String(f.wrongToCorrect), String(f.wavering), String(f.incomplete)]))}`;
}

function transitionsSection(s: FullSummary): string | undefined {
  if (!s.transitions?.length) return undefined;
  const mats = s.transitions.map((t) => `<div><p><strong>${e(t.condition)}</strong> round ${t.from} → ${t.to} <small>(${e(t.method)}, ${t.n} items)</small></p>${tableHtml(['from \\ to', ...t.matrix.map((_, j) => `rank ${j + 1}`)], t.matrix.map((row, i) => [`rank ${i + 1}`, ...row.map(String)]))}</div>`);
  return `<h2>Gold-rank transitions between rounds</h2><div class="charts">${mats.join('')}</div>`;
}

function rankSplitSection(s: FullSummary): string | undefined {
  if (!s.rankSplit?.length) return undefined;
  const rounds = [...new Set(s.rankSplit.flatMap((r) => r.rounds.map((x) => x.round)))].sort((a, b) => a - b);
  return `<h2>Accuracy over rounds by the gold rank at the start</h2><p><small>The paper's first finding: does self-correction help mostly where the correct answer is already top-ranked? ${Math.round(s.settings.bootstrap.level * 100)}% percentile bootstrap intervals over items (${s.settings.bootstrap.resamples} resamples, seed ${s.settings.bootstrap.seed}).</small></p>${tableHtml(
    ['condition', 'split by', 'gold rank', 'items', ...rounds.map((r) => `round ${r}`)],
    s.rankSplit.map((row) => [e(row.condition), e(row.by === 'round0' ? 'its round 0' : 'baseline'), `${row.rank} <small>${e(row.method)}</small>`, String(row.items), ...rounds.map((r) => ciPct(row.rounds.find((x) => x.round === r)?.ci))]),
  )}`;
}

function probesSection(s: FullSummary, maxRound: number): string | undefined {
  if (!s.probeMatrices?.length && !s.probeBands?.length) return undefined;
  const figs = (s.probeMatrices ?? []).map((mx) => heatmap({ title: `${mx.probe} ${mx.measure}, ${mx.condition}: layer × round`, rowLabels: mx.layers.map((l) => `layer ${l}`), colLabels: mx.rounds.map((r) => `r${r}`), values: mx.values }));
  for (const b of s.probeBands ?? []) {
    const series: LineSeries[] = b.conditions.filter((c) => c.points.length > 1).map((c) => ({ name: c.condition, points: c.points.map((p) => ({ x: p.round, y: p.mean })) }));
    if (b.baseline !== null) series.push({ name: 'baseline', dashed: true, points: Array.from({ length: maxRound + 1 }, (_, x) => ({ x, y: b.baseline })) });
    figs.push(lineChart(`${b.probe}: mean ${b.measure} over layers ${b.band.lo}–${b.band.hi} against rounds`, series, { xLabel: 'round', yFormat: (v) => num(v, 4) }));
  }
  return `<h2>Probes</h2><div class="charts">${figs.join('')}</div>`;
}

function superficialitySection(s: FullSummary, hasTox: boolean): string | undefined {
  if (!s.superficiality?.length) return undefined;
  const probes = [...new Set(s.superficiality.flatMap((r) => Object.keys(r.probes)))];
  const gen = s.superficiality.some((r) => r.generation);
  return `<h2>Superficiality test</h2><p><small>Each round against the baseline, paired by item: the change in the output metric and in the band probe score, with ${Math.round(s.settings.bootstrap.level * 100)}% bootstrap intervals. Verdicts: paired t tests one-sided in the moral direction (each probe's sign convention), and "unchanged" only when equivalence within the margin (TOST; ${e(String(s.settings.equivalence.probeMargin ?? `${s.settings.equivalence.marginSd} × the pooled sd`))}) is shown; a wide interval reads "inconclusive" with the minimal detectable change. Not in the paper; see the notes.</small></p>${s.task === 'generation' && !hasTox ? `<p class="scorer">${e(NO_OUTPUT_METRIC)}</p>` : ''}${tableHtml(
    ['condition', 'round', `Δ ${s.superficiality[0]!.outputMetric}`, ...probes.map((p) => `Δ ${p} band`), ...(gen ? ['kept + appended', 'edit distance'] : []), 'verdict', 'rests on'],
    s.superficiality.map((r) => [
      e(r.condition),
      String(r.round),
      ciNum(r.output),
      ...probes.map((p) => ciNum(r.probes[p]?.delta)),
      ...(gen ? [r.generation ? `${pct(r.generation.share)} <small>of ${r.generation.pairs}</small>` : '—', num(r.generation?.meanEditDistance)] : []),
      `<strong>${e(r.verdict)}</strong>`,
      `<small>${e(r.restsOn)}</small>`,
    ]),
  )}`;
}

function causalSection(c: CausalRow): string {
  return `<h2>Causal test: steering along ${e(c.probe)}</h2><p><small>Band ${c.band[0]}–${c.band[1]} (${e(c.measure)}); round 0 of each steered condition against ${e(c.reference)}, paired by item, with bootstrap intervals; the instruction's own point beside them. Not in the paper; see the notes.</small></p>${tableHtml(
    ['condition', 'alpha', 'layers', `Δ ${c.probe} band`, `Δ ${c.outputMetric}`, c.outputMetric],
    [
      ...c.points.map((p) => [e(p.condition), p.ablate ? 'ablate' : String(p.alpha), e(p.layers), ciNum(p.probeShift), ciNum(p.outputChange), num(p.output)]),
      ...(c.instruction ? [[`${e(c.instruction.condition)} r${c.instruction.round}`, 'instruction', '—', ciNum(c.instruction.probeShift), ciNum(c.instruction.outputChange), '—']] : []),
    ],
  )}<p>Steering slope (Δ ${e(c.outputMetric)} per unit of probe shift): ${ciNum(c.steeringSlope)}; the instruction's: ${num(c.instructionRatio)}; the instruction beyond the slope's prediction: ${ciNum(c.excess)}.</p><p><strong>${e(c.verdict)}</strong></p>`;
}

function instructionsSection(s: FullSummary): string | undefined {
  if (!s.instructions) return undefined;
  const t = s.instructions;
  const probes = Object.keys(t.spearman);
  return `<h2>Instructions compared</h2><p><small>The paper's second finding: does the probe level an instruction induces predict how effective it is? Round 0 of each instruction against ${e(t.reference ?? 'no baseline')}.</small></p>${tableHtml(
    ['condition', 'n', t.outputMetric, 'change', ...probes.map((p) => `${p} band`)],
    t.rows.map((r) => [e(r.condition), String(r.n), t.outputMetric === 'accuracy' ? pct(r.output) : num(r.output), num(r.change), ...probes.map((p) => num(r.probeLevel[p], 4))]),
  )}${probes.map((p) => `<p>Spearman's ρ, effectiveness vs ${e(p)} band level: <strong>${e(spearmanText(t.spearman[p]!))}</strong></p>`).join('')}`;
}

/** What the run was: dataset, backend, experiment, decoding, status. */
function settingsRows(m: RunManifest): Array<[string, string]> {
  const exp = m.experiment;
  return [
    ['dataset', `${m.dataset.path} (${m.dataset.format}, ${m.dataset.items} items, sha256 ${m.dataset.sha256.slice(0, 16)}…)`],
    ['backend', `${m.backend.kind} · ${m.backend.model}${m.backend.baseUrl ? ` · ${m.backend.baseUrl}` : ''}`],
    ['capabilities', Object.entries(m.backend.capabilities).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'],
    ['experiment', `${exp.name}${exp.preset ? ` (preset ${exp.preset})` : ''}: ${exp.conditions.map((c) => `${c.name}×${c.rounds}`).join(', ')}`],
    ['decoding', `temperature ${exp.decoding.temperature}, top-p ${exp.decoding.topP}, max ${exp.decoding.maxTokens} tokens${exp.decoding.seed !== undefined ? `, seed ${exp.decoding.seed}` : ''}`],
    ['conversation · answers · ranking', `${exp.conversation} · ${exp.answerParsing} · ${exp.ranking.continuation}/${exp.ranking.aggregate}`],
    ['status', `${m.status}: ${m.counts.recorded}/${m.counts.planned} records, ${m.counts.errors} errors, ${m.counts.cached} cached; tool ${m.toolVersion}`],
  ];
}

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;background:#fff}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.caveat{background:#fff6d6;border:1px solid #e6c84f;padding:.6rem .8rem;border-radius:4px}
table{border-collapse:collapse}td,th{padding:.25rem .7rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}small{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;flex:1 1 520px;max-width:640px}figcaption{font-weight:600;margin-bottom:.3rem}svg{width:100%;height:auto;font-size:11px}
svg .grid{stroke:#e3e3e3}svg text{fill:#444}.empty{color:#888}
@media (prefers-color-scheme: dark){body{background:#1e1e1e;color:#ddd}th{background:#2a2a2a}td,th{border-color:#444}svg text{fill:#bbb}svg .grid{stroke:#3a3a3a}.caveat{background:#3b3415;border-color:#7a6a25}}`;

/** The document around the pieces: head, settings, charts, the main table, notes, sections. */
function pageHtml(p: { manifest: RunManifest; caveat: string | undefined; charts: string[]; mainTable: string; scoring: string[]; errorsByCode: FullSummary['errorsByCode']; sections: string[] }): string {
  const m = p.manifest;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Self-Correction Lab — ${e(m.id)}</title>
<style>
${STYLE}
</style></head><body>
<h1>Self-Correction Lab — run ${e(m.id)}</h1>
<p>${e(m.status)} · ${e(new Date(m.updatedAt).toUTCString())}</p>
${p.caveat ? `<p class="caveat">${e(p.caveat)}</p>` : ''}
<h2>Settings</h2>
<table>${settingsRows(m).map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>
<h2>Charts</h2>
<div class="charts">${p.charts.join('')}</div>
<h2>Per condition and round</h2>
${p.mainTable}
${p.scoring.map((n) => `<p class="scorer">${e(n)}</p>`).join('\n')}
${Object.keys(p.errorsByCode).length ? `<p>Errors by code: ${e(Object.entries(p.errorsByCode).map(([k, v]) => `${k} ${v}`).join(', '))}</p>` : ''}
${p.sections.join('\n')}
</body></html>
`;
}
