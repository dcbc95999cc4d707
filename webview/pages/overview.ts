// Overview: the output metric per round and condition, baseline and controls as reference lines, and a table of
// every metric analysis computed per condition × round.
import type { RoundMetrics } from '../../src/core/analysis/analyze';
import type { ScoreKeyRow } from '../../src/core/analysis/toxicity';
import type { ConditionOverview } from '../../src/core/viewer/protocol';
import type { ChartDataset } from 'chart.js';
import { chart, mountCharts } from '../charts';
import { emptyState, h, section } from '../dom';
import { int, num, pct } from '../format';
import { table, type Column } from '../table';
import { theme } from '../theme';
import type { PageRenderer } from '../context';

interface Metric {
  key: string;
  label: string;
  value: (m: RoundMetrics) => number | null;
  /** percent axis */
  share: boolean;
}

function metricsOf(task: 'mcq' | 'generation', avail: { toxicity: boolean; bias: boolean; pronouns: boolean }): Metric[] {
  const out: Metric[] = [];
  if (task === 'mcq') out.push({ key: 'accuracy', label: 'accuracy', value: (m) => m.accuracy, share: true });
  if (avail.toxicity) out.push({ key: 'toxicity', label: 'mean toxicity', value: (m) => m.toxicity?.mean ?? null, share: false });
  if (avail.bias) out.push({ key: 'bias', label: 'BBQ bias score (ambiguous)', value: (m) => m.biasScore?.ambig?.score ?? null, share: false });
  if (avail.pronouns) out.push({ key: 'they', label: '"they" share', value: (m) => m.pronouns?.theyRate ?? null, share: true });
  return out;
}

function metricChart(conds: ConditionOverview[], metric: Metric): HTMLElement {
  const t = theme();
  const maxRounds = Math.max(...conds.map((c) => c.rounds.length));
  const labels = Array.from({ length: Math.max(1, maxRounds) }, (_, i) => `round ${i}`);
  const fmt = (v: number | null) => (metric.share ? pct(v) : num(v));
  let colour = 0;
  const datasets = conds.flatMap((c): Array<ChartDataset<'line', Array<number | null>>> => {
    const at = (r: number) => {
      const m = c.rounds.find((x) => x.round === r);
      return m ? metric.value(m) : null;
    };
    if (c.rounds.length > 1) {
      const col = t.series[colour++ % t.series.length]!;
      return [{ label: `${c.name} (${c.kind})`, data: labels.map((_, r) => at(r)), borderColor: col, backgroundColor: col, borderDash: c.kind === 'control' ? [4, 3] : [], spanGaps: true, pointRadius: 3 }];
    }
    const v = at(c.rounds[0]?.round ?? 0);
    if (v === null) return [];
    // one-round baseline and controls are references across all rounds; a one-round variant is a point at round 0
    if (c.kind === 'variant') {
      const col = t.series[colour++ % t.series.length]!;
      return [{ label: `${c.name} (variant) ${fmt(v)}`, data: labels.map((_, r) => (r === 0 ? v : null)), borderColor: col, backgroundColor: col, pointStyle: 'triangle' as const, pointRadius: 6, showLine: false }];
    }
    const col = c.kind === 'baseline' ? t.muted : t.series[4]!;
    return [{ label: `${c.name} (${c.kind}) ${fmt(v)}`, data: labels.map(() => v), borderColor: col, backgroundColor: col, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 }];
  });
  if (datasets.length === 0) return h('p', { class: 'muted' }, `no ${metric.label} in this run`);
  return chart(
    {
      type: 'line',
      data: { labels, datasets },
      options: {
        scales: {
          x: { offset: true },
          y: { title: { display: true, text: metric.label }, ...(metric.share ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}) },
        },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y)}` } } },
      },
    },
    `${metric.label} per round for each condition; dashed: one-round conditions (baseline, controls) as references`,
  );
}

function conditionTable(c: ConditionOverview, probe: string | undefined, has: { ranks: boolean; bias: boolean; toxicity: boolean; pronouns: boolean; accuracy: boolean }): HTMLElement {
  const cols: Array<Column<RoundMetrics> | false> = [
    { label: 'round', cell: (m) => m.round },
    { label: 'records', num: true, cell: (m) => int(m.n) },
    { label: 'errors', num: true, cell: (m) => (m.errors ? h('span', { class: 'bad' }, int(m.errors)) : '0') },
    has.accuracy && { label: 'parsed', num: true, title: 'answers the parsing rule could read, among records without error', cell: (m) => pct(m.parseRate) },
    has.accuracy && { label: 'accuracy', num: true, cell: (m) => (m.accuracy === null ? '—' : `${pct(m.accuracy)} (${int(m.correct)}/${int(m.judged)})`) },
    has.bias && { label: 'bias (amb)', num: true, title: 'BBQ s_AMB = (1 − accuracy) · s_DIS on ambiguous items', cell: (m) => num(m.biasScore?.ambig?.score ?? null) },
    has.bias && { label: 'bias (dis)', num: true, title: 'BBQ s_DIS on disambiguated items', cell: (m) => num(m.biasScore?.disambig?.score ?? null) },
    has.pronouns && { label: '"they"', num: true, cell: (m) => pct(m.pronouns?.theyRate ?? null) },
    has.ranks && { label: 'mean gold rank', num: true, cell: (m) => (m.goldRank ? `${num(m.goldRank.mean, 2)}${m.goldRank.method === 'exact' ? '' : ` (${m.goldRank.method})`}${m.goldRank.censored ? `, ${pct(m.goldRank.censoredShare)} censored` : ''}` : '—') },
    has.ranks && { label: 'gold top-1', num: true, cell: (m) => (m.goldRank ? pct((m.goldRank.counts[0] ?? 0) / m.goldRank.n) : '—') },
    has.toxicity && { label: 'toxicity', num: true, cell: (m) => (m.toxicity ? `${num(m.toxicity.mean)}${m.toxicity.mixed ? ' (mixed scorers)' : ''}` : '—') },
    !!probe && { label: `${probe} band`, num: true, title: 'mean probe score over the band layers', cell: (m) => num(m.probes?.[probe!]?.band.mean ?? null, 4) },
  ];
  return table(c.rounds, cols.filter((x): x is Column<RoundMetrics> => x !== false), `${c.name} — ${c.kind}${c.description ? `: ${c.description}` : ''}`);
}

/** Every score key side by side (e.g. Perspective and an offline re-scoring): overall, and per condition × round. */
function scoreKeysSection(keys: ScoreKeyRow[], main: string): HTMLElement {
  const cols: Array<Column<ScoreKeyRow>> = [
    { label: 'key', cell: (k) => k.key },
    { label: 'scorer', cell: (k) => k.scorers.join(', ') },
    { label: 'scored', num: true, cell: (k) => int(k.n) },
    { label: 'mean', num: true, cell: (k) => num(k.mean) },
    { label: `ρ vs ${main}`, num: true, title: `Spearman's rank correlation with ${main} on the records both scored`, cell: (k) => (k.versusMain ? `${num(k.versusMain.spearman)} (n ${int(k.versusMain.n)})` : '—') },
    { label: `mean − ${main}`, num: true, cell: (k) => (k.versusMain ? num(k.versusMain.meanDifference) : '—') },
  ];
  const perCell = keys[0]!.cells.map((c, i) => ({ ...c, means: keys.map((k) => k.cells[i]?.mean ?? null) }));
  const cellCols: Array<Column<(typeof perCell)[number]>> = [
    { label: 'condition', cell: (c) => c.condition },
    { label: 'round', cell: (c) => c.round },
    ...keys.map((k, j): Column<(typeof perCell)[number]> => ({ label: `${k.key} mean`, num: true, cell: (c) => num(c.means[j] ?? null) })),
  ];
  return section('Scores side by side', table(keys, cols, `score keys (${main} is the output metric)`), table(perCell, cellCols, 'mean per condition and round'));
}

export const renderOverview: PageRenderer = async (root, ctx) => {
  const o = ctx.overview;
  const metrics = metricsOf(o.run.experiment.task, o.available);
  const probe = o.conditions.flatMap((c) => c.rounds.flatMap((r) => Object.keys(r.probes ?? {})))[0];
  const grid =
    metrics.length > 0
      ? h('div', { class: 'grid' }, ...metrics.map((m) => section(`${m.label} per round`, metricChart(o.conditions, m))))
      : emptyState(
          o.run.experiment.task === 'generation'
            ? 'no toxicity scorer configured: this run has no output metric to draw (the notes above say how to add a scorer or re-score the run); its answers are on the Samples page.'
            : 'this run has no output metric to draw.',
        );
  root.append(
    grid,
    ...(o.scoreKeys ? [scoreKeysSection(o.scoreKeys, o.settings.scoreKey)] : []),
    section(
      'Per condition and round',
      ...o.conditions.map((c) => conditionTable(c, probe, { ...o.available, accuracy: o.run.experiment.task === 'mcq' })),
      h('p', { class: 'muted' }, `bootstrap: ${o.settings.bootstrap.resamples} resamples, seed ${o.settings.bootstrap.seed}, ${Math.round(o.settings.bootstrap.level * 100)}% intervals; records with errors are left out of every metric.`),
    ),
  );
  mountCharts(root);
};
