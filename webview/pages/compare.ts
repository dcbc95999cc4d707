// Compare: two runs item by item, per condition × round present in both (paired differences with intervals; McNemar
// for correctness).
import { chart, intervalWhiskers, mountCharts, referenceLines } from '../charts';
import { emptyState, h, section } from '../dom';
import { ci, int, pct, num, pValue } from '../format';
import { table } from '../table';
import { theme } from '../theme';
import { availableOrSay, type PageRenderer } from '../context';

export const renderCompare: PageRenderer = async (root, ctx) => {
  const r = availableOrSay(root, await ctx.bridge.request('compare', {}));
  if (!r) return;
  const t = theme();
  const rows = r.comparison.rows;
  const share = rows[0]?.metric === 'accuracy';
  const f = (x: number | null) => (share ? pct(x) : num(x));
  // the axis must hold the whole intervals and 0, or the whiskers run off the chart
  const ends = rows.flatMap((x) => (x.delta ? [x.delta.lo, x.delta.hi] : [])).concat(0);
  const pad = (Math.max(...ends) - Math.min(...ends)) * 0.08 || 0.01;
  const yRange = { suggestedMin: Math.min(...ends) - pad, suggestedMax: Math.max(...ends) + pad };
  root.append(
    section(
      'Runs',
      table(
        [r.a, r.b],
        [
          { label: 'side', cell: (x) => (x === r.a ? 'A' : 'B') },
          { label: 'run', cell: (x) => x.name },
          { label: 'model', cell: (x) => `${x.backend.kind}: ${x.backend.model}` },
          { label: 'experiment', cell: (x) => x.experiment.name },
          { label: 'created', cell: (x) => x.createdAt },
          { label: 'records', num: true, cell: (x) => int(x.counts.recorded) },
        ],
      ),
      r.comparison.onlyA.length || r.comparison.onlyB.length ? h('p', { class: 'muted' }, `only in A: ${r.comparison.onlyA.join(', ') || '—'}; only in B: ${r.comparison.onlyB.join(', ') || '—'}`) : null,
    ),
  );
  if (rows.length === 0) {
    root.append(emptyState('the two runs share no condition × round: nothing to pair.'));
    return;
  }
  root.append(
    section(
      `Paired change B − A (${rows[0]!.metric})`,
      chart(
        {
          type: 'line',
          data: {
            labels: rows.map((x) => `${x.condition} r${x.round}`),
            // cast: error-bar points ({ x, y, lo, hi } or null gaps) are the plugin's, not Chart.js' own point type
            datasets: [{ label: 'B − A', data: rows.map((x) => (x.delta ? { x: `${x.condition} r${x.round}`, y: x.delta.estimate, lo: x.delta.lo, hi: x.delta.hi } : null)) as never, borderColor: t.series[0], backgroundColor: t.series[0], showLine: false, pointRadius: 4 }],
          },
          options: { parsing: { xAxisKey: 'x', yAxisKey: 'y' }, scales: { x: { offset: true }, y: { ...yRange, title: { display: true, text: `${rows[0]!.metric} B − A` } } } },
          plugins: [intervalWhiskers, referenceLines([{ y: 0, label: 'no change', color: t.muted }])],
        },
        'paired difference between the runs per condition and round, with bootstrap intervals',
      ),
      table(rows, [
        { label: 'condition', cell: (x) => `${x.condition} r${x.round}` },
        { label: 'paired items', num: true, cell: (x) => int(x.paired) },
        { label: 'A', num: true, cell: (x) => f(x.a) },
        { label: 'B', num: true, cell: (x) => f(x.b) },
        { label: 'B − A [interval]', num: true, cell: (x) => ci(x.delta) },
        { label: 'A✓ B✗ / A✗ B✓', num: true, cell: (x) => (x.mcnemar ? `${int(x.mcnemar.aRightBWrong)} / ${int(x.mcnemar.aWrongBRight)}` : '—') },
        { label: 'McNemar', num: true, cell: (x) => (x.mcnemar ? `${pValue(x.mcnemar.p)} (${x.mcnemar.method})` : '—') },
      ]),
    ),
  );
  mountCharts(root);
};
