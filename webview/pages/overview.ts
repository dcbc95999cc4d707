// Overview: the output metric per round and condition, baseline and controls as reference lines, and a table of
// every metric analysis computed per condition × round.
import type { RoundMetrics } from '../../src/core/analysis/analyze';
import type { ConditionOverview } from '../../src/core/viewer/protocol';
import { chart, mountCharts, referenceLines } from '../charts';
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
  const lines = conds.filter((c) => c.rounds.length > 1);
  // one-round conditions (the baseline, most controls) are references, not series
  const refs = conds.filter((c) => c.rounds.length === 1).flatMap((c) => {
    const v = metric.value(c.rounds[0]!);
    return v === null ? [] : [{ y: v, label: `${c.name} (${c.kind}) ${metric.share ? pct(v) : num(v)}`, color: c.kind === 'baseline' ? t.muted : t.series[4]! }];
  });
  const datasets = lines.map((c, i) => ({
    label: `${c.name} (${c.kind})`,
    data: labels.map((_, r) => {
      const m = c.rounds.find((x) => x.round === r);
      return m ? metric.value(m) : null;
    }),
    borderColor: t.series[i % t.series.length],
    backgroundColor: t.series[i % t.series.length],
    borderDash: c.kind === 'control' ? [4, 3] : [],
    spanGaps: true,
    pointRadius: 3,
  }));
  if (datasets.length === 0 && refs.length === 0) return h('p', { class: 'muted' }, `no ${metric.label} in this run`);
  return chart(
    {
      type: 'line',
      data: { labels, datasets },
      options: {
        scales: {
          y: { title: { display: true, text: metric.label }, ...(metric.share ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } : {}) },
        },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${metric.share ? pct(c.parsed.y) : num(c.parsed.y)}` } } },
      },
      plugins: [referenceLines(refs)],
    },
    `${metric.label} per round for each condition; dashed lines: one-round conditions (baseline, controls)`,
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
    has.ranks && { label: 'mean gold rank', num: true, cell: (m) => (m.goldRank ? `${num(m.goldRank.mean, 2)}${m.goldRank.method === 'exact' ? '' : ` (${m.goldRank.method})`}` : '—') },
    has.ranks && { label: 'gold top-1', num: true, cell: (m) => (m.goldRank ? pct((m.goldRank.counts[0] ?? 0) / m.goldRank.n) : '—') },
    has.toxicity && { label: 'toxicity', num: true, cell: (m) => (m.toxicity ? `${num(m.toxicity.mean)}${m.toxicity.mixed ? ' (mixed scorers)' : ''}` : '—') },
    !!probe && { label: `${probe} band`, num: true, title: 'mean probe score over the band layers', cell: (m) => num(m.probes?.[probe!]?.band.mean ?? null, 4) },
  ];
  return table(c.rounds, cols.filter((x): x is Column<RoundMetrics> => x !== false), `${c.name} — ${c.kind}${c.description ? `: ${c.description}` : ''}`);
}

export const renderOverview: PageRenderer = async (root, ctx) => {
  const o = ctx.overview;
  const metrics = metricsOf(o.run.experiment.task, o.available);
  const probe = o.conditions.flatMap((c) => c.rounds.flatMap((r) => Object.keys(r.probes ?? {})))[0];
  const grid =
    metrics.length > 0
      ? h('div', { class: 'grid' }, ...metrics.map((m) => section(`${m.label} per round`, metricChart(o.conditions, m))))
      : emptyState('this run has no output metric to draw: a generation run needs response scores (configure scorers in the experiment, e.g. scorers: [{ name: toxicity, kind: offline }]); its answers are on the Samples page.');
  root.append(
    grid,
    section(
      'Per condition and round',
      ...o.conditions.map((c) => conditionTable(c, probe, { ...o.available, accuracy: o.run.experiment.task === 'mcq' })),
      h('p', { class: 'muted' }, `bootstrap: ${o.settings.bootstrap.resamples} resamples, seed ${o.settings.bootstrap.seed}, ${Math.round(o.settings.bootstrap.level * 100)}% intervals; records with errors are left out of every metric.`),
    ),
  );
  mountCharts(root);
};
