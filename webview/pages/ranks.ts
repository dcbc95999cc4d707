// Ranks: the gold option's rank per round (stacked shares), the round-to-round transition heatmap, correctness flips,
// and accuracy over rounds split by the starting gold rank with bootstrap intervals (the paper's first finding).
import type { Plugin } from 'chart.js';
import type { RankSplitRow, RankTransition } from '../../src/core/analysis/ranks';
import type { RanksResult } from '../../src/core/viewer/protocol';
import { chart, intervalWhiskers, mountCharts } from '../charts';
import { ce, h, section, type SingleSelect } from '../dom';
import { int, pct } from '../format';
import { table } from '../table';
import { sequential, theme } from '../theme';
import { availableOrSay, type PageContext, type PageRenderer } from '../context';

function rankColor(k: number, n: number): string {
  // rank 1 strongest; later ranks fade
  const t = theme();
  const base = [t.good, t.series[0]!, t.series[3]!, t.bad, t.series[4]!, t.muted];
  return base[Math.min(k, base.length - 1)] ?? t.muted ?? String(n);
}

type Ranks = Extract<RanksResult, { available: true }>;
type HeatCell = { x: string; y: string; v: number; share: number };

/** Prints each cell's count and its share of the row inside the cell. */
function cellLabels(data: HeatCell[], fg: string): Plugin<'matrix'> {
  return {
    id: 'cellLabels',
    afterDatasetsDraw(c) {
      const meta = c.getDatasetMeta(0);
      const ctx = c.ctx;
      ctx.save();
      ctx.font = '12px sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      meta.data.forEach((el, k) => {
        const d = data[k]!;
        const pos = el.tooltipPosition(true);
        const x = pos.x ?? 0;
        const y = pos.y ?? 0;
        ctx.fillStyle = d.share > 0.55 ? '#fff' : fg;
        ctx.fillText(`${int(d.v)}`, x, y - 7);
        ctx.fillText(pct(d.share, 0), x, y + 8);
      });
      ctx.restore();
    },
  };
}

function transitionHeatmap(tr: RankTransition): HTMLElement {
  const size = tr.matrix.length;
  const rowTotals = tr.matrix.map((r) => r.reduce((a, b) => a + b, 0));
  const data: HeatCell[] = tr.matrix.flatMap((row, i) => row.map((v, j) => ({ x: `→ ${j + 1}`, y: `${i + 1}`, v, share: rowTotals[i] ? v / rowTotals[i]! : 0 })));
  const t = theme();
  return chart(
    {
      type: 'matrix',
      data: {
        datasets: [
          {
            label: `${tr.condition}: round ${tr.from} → ${tr.to}`,
            data,
            backgroundColor: (c: { raw?: unknown }) => sequential((c.raw as { share: number } | undefined)?.share ?? 0),
            borderColor: t.grid,
            borderWidth: 1,
            width: ({ chart: ch }) => (ch.chartArea || { width: 0 }).width / size - 2,
            height: ({ chart: ch }) => (ch.chartArea || { height: 0 }).height / size - 2,
          },
        ],
      },
      options: {
        scales: {
          x: { type: 'category', labels: Array.from({ length: size }, (_, j) => `→ ${j + 1}`), title: { display: true, text: `gold rank in round ${tr.to}` }, grid: { display: false } },
          y: { type: 'category', labels: Array.from({ length: size }, (_, i) => `${i + 1}`), offset: true, title: { display: true, text: `gold rank in round ${tr.from}` }, grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => '',
              label: (c) => {
                const r = c.raw as HeatCell;
                return `rank ${r.y} ${r.x}: ${int(r.v)} items (${pct(r.share)} of rank ${r.y})`;
              },
            },
          },
        },
      },
      plugins: [cellLabels(data, t.fg)],
    },
    `gold-rank transitions of ${tr.condition} from round ${tr.from} to ${tr.to}; rows: rank before, columns: rank after`,
    300,
  );
}

export const renderRanks: PageRenderer = async (root, ctx) => {
  const r = availableOrSay(root, await ctx.bridge.request('ranks', {}));
  if (!r) return;
  root.append(distributionSection(r));
  if (r.transitions.length) root.append(transitionsSection(r, ctx));
  if (r.flips.length) root.append(flipsSection(r));
  if (r.rankSplit.length) root.append(rankSplitSection(r, ctx));
  mountCharts(root);
};

/** One bar per condition × round, stacked shares of the gold option's ranks. */
function distributionSection(r: Ranks): HTMLElement {
  const bars = r.distributions.flatMap((d) => d.rounds.map((x) => ({ label: `${d.condition} r${x.round}`, s: x.summary })));
  const maxRank = Math.max(...bars.map((b) => b.s.counts.length));
  const method = [...new Set(bars.map((b) => b.s.method))].join(', ');
  const dist = chart(
    {
      type: 'bar',
      data: {
        labels: bars.map((b) => b.label),
        datasets: Array.from({ length: maxRank }, (_, k) => ({
          label: `gold rank ${k + 1}`,
          data: bars.map((b) => (b.s.counts[k] ?? 0) / b.s.n),
          backgroundColor: rankColor(k, maxRank),
        })),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` }, title: { display: true, text: 'share of items' } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${pct(c.parsed.y)} (${int(bars[c.dataIndex]!.s.counts[c.datasetIndex] ?? 0)} of ${int(bars[c.dataIndex]!.s.n)})` } } },
      },
    },
    'share of items by the gold option’s rank, per condition and round',
  );
  return section(`Gold-rank distribution per round (${method})`, dist);
}

/** The heatmap of one pair of consecutive rounds, picked from all of them. */
function transitionsSection(r: Ranks, ctx: PageContext): HTMLElement {
  const sel = Math.min(ctx.state.ranks.transition ?? 0, r.transitions.length - 1);
  const picker = ce<HTMLSelectElement>('vscode-single-select', { ariaLabel: 'transition', label: 'transition' }, ...r.transitions.map((tr, i) => ce('vscode-option', { value: String(i), selected: i === sel }, `${tr.condition}: round ${tr.from} → ${tr.to} (${int(tr.n)} items)`)));
  picker.addEventListener('change', () => {
    ctx.state.ranks.transition = Number(picker.value);
    ctx.save();
    ctx.refresh();
  });
  const tr = r.transitions[sel]!;
  return section('Transitions between consecutive rounds', h('div', { class: 'toolbar' }, h('label', null, 'pair '), picker), transitionHeatmap(tr), h('p', { class: 'muted' }, `rank method: ${tr.method}; each cell: items, and their share of the row.`));
}

function flipsSection(r: Ranks): HTMLElement {
  return section(
    'Correctness over the rounds',
    table(r.flips, [
      { label: 'condition', cell: (f) => f.condition },
      { label: 'items', num: true, cell: (f) => int(f.items) },
      { label: 'stayed right', num: true, cell: (f) => int(f.stayedCorrect) },
      { label: 'stayed wrong', num: true, cell: (f) => int(f.stayedWrong) },
      { label: 'wrong → right', num: true, cell: (f) => h('span', { class: 'good' }, int(f.wrongToCorrect)) },
      { label: 'right → wrong', num: true, cell: (f) => h('span', { class: 'bad' }, int(f.correctToWrong)) },
      { label: 'wavering', num: true, title: 'changed more than once', cell: (f) => int(f.wavering) },
      { label: 'incomplete', num: true, title: 'some round missing, failed or unjudged', cell: (f) => int(f.incomplete) },
    ]),
  );
}

/** Accuracy over rounds split by the starting gold rank (the paper's first finding), one chart per condition. */
function rankSplitSection(r: Ranks, ctx: PageContext): HTMLElement {
  const hasBaseline = r.rankSplit.some((x) => x.by === 'baseline');
  const by = hasBaseline ? ctx.state.ranks.splitBy : 'round0';
  const rows = r.rankSplit.filter((x) => x.by === by);
  const conditions = [...new Set(rows.map((x) => x.condition))];
  const picker = ce<SingleSelect>(
    'vscode-single-select',
    { ariaLabel: 'split by', label: 'split by' },
    ce('vscode-option', { value: 'round0', selected: by === 'round0' }, 'rank at round 0 of the same condition'),
    ...(hasBaseline ? [ce('vscode-option', { value: 'baseline', selected: by === 'baseline' }, 'rank at the baseline')] : []),
  );
  picker.addEventListener('change', () => {
    ctx.state.ranks.splitBy = picker.value === 'baseline' ? 'baseline' : 'round0';
    ctx.save();
    ctx.refresh();
  });
  return section(
    'Accuracy by starting gold rank',
    h('div', { class: 'toolbar' }, h('label', null, 'split by '), picker),
    ...conditions.map((c) => h('div', null, h('h3', null, c), rankSplitChart(c, rows.filter((x) => x.condition === c)))),
    h('p', { class: 'muted' }, `whiskers: ${Math.round(r.bootstrap.level * 100)}% percentile bootstrap over items (${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed}). The paper's claim: self-correction helps most where the gold answer is already top-ranked.`),
  );
}

/** One condition's accuracy per round, a line per starting gold rank, with bootstrap whiskers. */
function rankSplitChart(condition: string, groups: RankSplitRow[]): HTMLElement {
  const rounds = [...new Set(groups.flatMap((g) => g.rounds.map((x) => x.round)))].sort((a, b) => a - b);
  return chart(
    {
      type: 'line',
      data: {
        labels: rounds.map((x) => `round ${x}`),
        datasets: groups.map((g, i) => ({
          label: `gold rank ${g.rank} (${int(g.items)} items)`,
          // cast: error-bar points ({ x, y, lo, hi } or null gaps) are the plugin's, not Chart.js' own point type
          data: rounds.map((x) => {
            const p = g.rounds.find((q) => q.round === x);
            return p && p.accuracy !== null ? { x: `round ${x}`, y: p.accuracy, lo: p.ci?.lo, hi: p.ci?.hi } : null;
          }) as never,
          borderColor: rankColor(i, groups.length),
          backgroundColor: rankColor(i, groups.length),
          spanGaps: true,
        })),
      },
      options: {
        parsing: { xAxisKey: 'x', yAxisKey: 'y' },
        scales: { y: { min: 0, max: 1, title: { display: true, text: 'accuracy' }, ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (q) => {
                const p = q.raw as { y: number; lo?: number; hi?: number };
                return `${q.dataset.label}: ${pct(p.y)} [${pct(p.lo ?? null)}, ${pct(p.hi ?? null)}]`;
              },
            },
          },
        },
      },
      plugins: [intervalWhiskers],
    },
    `accuracy per round of ${condition}, one line per starting gold rank, with bootstrap intervals`,
  );
}
