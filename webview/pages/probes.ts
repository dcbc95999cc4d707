// Probes: the layer × round heatmap, per-layer curves, the band mean against rounds (baseline as reference) and the
// superficiality verdicts, all as computed by core/analysis.
import type { LayerRoundMatrix } from '../../src/core/analysis/probes';
import type { SuperficialityRow } from '../../src/core/analysis/superficiality';
import { chart, mountCharts, referenceLines, xBand } from '../charts';
import { ce, emptyState, h, section, type SingleSelect } from '../dom';
import { ci, int, num } from '../format';
import { table } from '../table';
import { alpha, diverging, theme } from '../theme';
import { availableOrSay, type PageRenderer } from '../context';

function heatmap(m: LayerRoundMatrix): HTMLElement {
  const flat = m.values.flat().filter((v): v is number => v !== null);
  const maxAbs = Math.max(1e-9, ...flat.map(Math.abs));
  const data = m.layers.flatMap((layer, i) => m.rounds.map((round, j) => ({ x: `r${round}`, y: String(layer), v: m.values[i]![j] ?? null })));
  const nx = m.rounds.length;
  const ny = m.layers.length;
  return chart(
    {
      type: 'matrix',
      data: {
        datasets: [
          {
            label: `${m.probe} ${m.measure}`,
            // cast: Chart.js types matrix points loosely per plugin; the points are the analysis' typed cells
            data: data as never,
            backgroundColor: (c: { raw?: unknown }) => diverging((c.raw as { v: number | null } | undefined)?.v ?? null, maxAbs),
            borderWidth: 0,
            width: ({ chart: ch }) => (ch.chartArea || { width: 0 }).width / nx - 1,
            height: ({ chart: ch }) => (ch.chartArea || { height: 0 }).height / ny - 1,
          },
        ],
      },
      options: {
        scales: {
          x: { type: 'category', labels: m.rounds.map((r) => `r${r}`), title: { display: true, text: 'round' }, grid: { display: false } },
          y: { type: 'category', labels: m.layers.map(String), offset: true, title: { display: true, text: 'layer' }, grid: { display: false }, ticks: { autoSkip: true, maxTicksLimit: 17 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: () => '', label: (c) => { const r = c.raw as { x: string; y: string; v: number | null }; return `layer ${r.y}, ${r.x}: ${num(r.v, 4)}`; } } },
        },
      },
    },
    `mean ${m.measure} of probe ${m.probe} per layer and round in ${m.condition}; red above 0, blue below`,
    Math.max(260, Math.min(520, ny * 14 + 60)),
  );
}

function verdictBadge(row: SuperficialityRow): HTMLElement {
  const cls = row.case === 'superficial' ? 'badge warn' : row.case === 'both-improved' ? 'badge good' : row.case === 'output-worse' || row.case === 'internals-away' ? 'badge bad' : 'badge';
  return h('span', { class: cls }, row.case);
}

export const renderProbes: PageRenderer = async (root, ctx) => {
  const p = availableOrSay(root, await ctx.bridge.request('probes', {}));
  if (!p) return;
  const t = theme();
  const probe = p.probes.includes(ctx.state.probes.probe ?? '') ? ctx.state.probes.probe! : p.probes[0]!;
  const conds = [...new Set(p.curves.filter((c) => c.probe === probe).map((c) => c.condition))];
  const multi = conds.filter((c) => p.curves.filter((x) => x.probe === probe && x.condition === c).length > 1);
  const condition = conds.includes(ctx.state.probes.condition ?? '') ? ctx.state.probes.condition! : (multi[0] ?? conds[0]!);
  const picker = (label: string, values: string[], current: string, set: (v: string) => void) => {
    const el = ce<SingleSelect>('vscode-single-select', { ariaLabel: label, label }, ...values.map((v) => ce('vscode-option', { value: v, selected: v === current }, v)));
    el.addEventListener('change', () => {
      set(el.value);
      ctx.save();
      ctx.refresh();
    });
    return h('label', { class: 'pick' }, `${label} `, el);
  };
  root.append(
    h(
      'div',
      { class: 'toolbar' },
      picker('probe', p.probes, probe, (v) => (ctx.state.probes.probe = v)),
      picker('condition', conds, condition, (v) => (ctx.state.probes.condition = v)),
      h('span', { class: 'muted' }, `measure: ${p.measure}`),
    ),
  );

  // superficiality first: it is the question the tool exists to answer
  const sup = p.superficiality.filter((s) => Object.keys(s.probes).includes(probe) || Object.keys(s.probes).length === 0);
  if (sup.length) {
    root.append(
      section(
        'Did the instruction change the internals, or only the output?',
        table(sup, [
          { label: 'condition', cell: (s) => h('span', { class: 'nowrap' }, `${s.condition} r${s.round}`) },
          { label: `${sup[0]!.outputMetric} change vs ${sup[0]!.reference}`, num: true, cell: (s) => ci(s.output) },
          { label: `${probe} band change`, num: true, cell: (s) => ci(s.probes[probe]?.delta ?? null, 4) },
          { label: 'more moral', cell: (s) => s.probes[probe]?.moralDirection ?? '—' },
          { label: 'min. detectable', num: true, cell: (s) => (s.probes[probe]?.test ? num(s.probes[probe]!.test!.minimalDetectableChange, 4) : '—') },
          { label: 'case', cell: verdictBadge },
          { label: 'verdict', cell: (s) => h('span', { class: 'verdict', title: s.restsOn }, s.verdict) },
        ]),
        h('p', { class: 'muted' }, `Paired per item against ${sup[0]!.reference} round 0; intervals: ${Math.round(p.bootstrap.level * 100)}% percentile bootstrap, ${p.bootstrap.resamples} resamples, seed ${p.bootstrap.seed}. Verdicts: paired t tests one-sided in the moral direction (the probe's sign convention) and equivalence (TOST) within a margin; "superficial": the output improved while the band score is shown equivalent to no change (our test, not the paper's); a wide interval reads "inconclusive". "min. detectable": the smallest change this many items detect. Hover a verdict for what it rests on.`),
      ),
    );
  }

  const m = p.matrices.find((x) => x.probe === probe && x.condition === condition);
  const curves = p.curves.filter((c) => c.probe === probe && c.condition === condition);
  const band = curves[0]?.band;
  const layers = curves[0]?.layers ?? [];
  const lineData = chart(
    {
      type: 'line',
      data: {
        labels: layers.map(String),
        datasets: curves.map((c, i) => {
          const shade = curves.length > 1 ? 0.35 + (0.65 * i) / (curves.length - 1) : 1;
          return { label: `round ${c.round} (n=${int(c.n)})`, data: c.values, borderColor: alpha(t.series[0]!, shade), backgroundColor: alpha(t.series[0]!, shade), pointRadius: 0, borderWidth: 1.8, spanGaps: true };
        }),
      },
      options: { scales: { x: { title: { display: true, text: 'layer' } }, y: { title: { display: true, text: `mean ${p.measure}` } } }, interaction: { mode: 'index', intersect: false } },
      plugins: band ? [xBand(layers.indexOf(band.lo), layers.indexOf(band.hi), `band ${band.lo}–${band.hi}`)] : [],
    },
    `mean ${p.measure} of ${probe} per layer, one line per round of ${condition}; later rounds darker`,
  );
  root.append(h('div', { class: 'grid' }, section(`Layer × round: ${condition}`, ...(m ? [heatmap(m), h('p', { class: 'muted' }, `colour: mean ${m.measure} per layer and round; red above 0, blue below, full colour at |${num(Math.max(0, ...m.values.flat().map((v) => Math.abs(v ?? 0))), 3)}|.`)] : [emptyState(`${condition} has a single round: no layer × round matrix.`)])), section(`Per-layer curves: ${condition}`, lineData)));

  const bs = p.bands.find((b) => b.probe === probe);
  if (bs) {
    const maxR = Math.max(...bs.conditions.flatMap((c) => c.points.map((x) => x.round)));
    const labels = Array.from({ length: maxR + 1 }, (_, i) => `round ${i}`);
    const lines = bs.conditions.filter((c) => c.points.length > 1);
    const refs = [
      ...(bs.baseline !== null ? [{ y: bs.baseline, label: `baseline ${num(bs.baseline, 4)}`, color: t.muted }] : []),
      ...bs.conditions.filter((c) => c.points.length === 1 && ctx.overview.conditions.find((x) => x.name === c.condition)?.kind !== 'baseline' && c.points[0]!.mean !== null).map((c) => ({ y: c.points[0]!.mean!, label: c.condition, color: t.series[4]! })),
    ];
    root.append(
      section(
        `Band mean (layers ${bs.band.lo}–${bs.band.hi}, ${bs.band.source}) against rounds`,
        chart(
          {
            type: 'line',
            data: { labels, datasets: lines.map((c, i) => ({ label: c.condition, data: labels.map((_, r) => c.points.find((x) => x.round === r)?.mean ?? null), borderColor: t.series[i % t.series.length], backgroundColor: t.series[i % t.series.length], spanGaps: true })) },
            options: { scales: { y: { title: { display: true, text: `band mean ${bs.measure}` } } } },
            plugins: [referenceLines(refs)],
          },
          `band mean of ${probe} against rounds, baseline dashed`,
        ),
      ),
    );
  }
  mountCharts(root);
};
