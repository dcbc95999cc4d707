// Instructions: each instruction's effectiveness against the probe level it induces, with Spearman's ρ (the paper's
// second finding: the morality level of the hidden states tells which instruction will work better).
import { chart, mountCharts } from '../charts';
import { h, section } from '../dom';
import { int, num, pct, signed } from '../format';
import { table } from '../table';
import { theme } from '../theme';
import { availableOrSay, type PageRenderer } from '../context';

export const renderInstructions: PageRenderer = async (root, ctx) => {
  const r = availableOrSay(root, await ctx.bridge.request('instructions', {}));
  if (!r) return;
  const tb = r.table;
  const t = theme();
  const probes = Object.keys(tb.spearman);
  const share = tb.outputMetric === 'accuracy';
  for (const probe of probes) {
    const pts = tb.rows.filter((x) => x.effectiveness !== null && x.probeLevel[probe] !== null && x.probeLevel[probe] !== undefined);
    const rho = tb.spearman[probe]!;
    root.append(
      section(
        `Effectiveness vs ${probe} level`,
        h('p', { class: 'stat' }, `Spearman ρ = ${rho.rho === null ? '— (needs 3 instructions with both values)' : `${num(rho.rho, 3)} (p = ${num(rho.p, 3)}, ${rho.method === 'exact' ? 'exact permutation' : 't approximation'}${rho.ci ? `; bootstrap interval [${num(rho.ci.lo, 2)}, ${num(rho.ci.hi, 2)}]` : ''})`} over ${rho.n} instructions`),
        h('p', { class: 'muted' }, `effectiveness: the ${tb.outputMetric} change against ${tb.reference ?? 'the baseline (none in this run)'} in round 0, signed so that higher is better; level: the ${probe} band mean the instruction induces.`),
        chart(
          {
            type: 'scatter',
            // each point also carries its condition's `name` for the tooltip (extra fields are fine on a computed point)
            data: { datasets: [{ label: 'instruction', data: pts.map((x) => ({ x: x.probeLevel[probe]!, y: x.effectiveness!, name: x.condition })), backgroundColor: t.series[0], pointRadius: 5 }] },
            options: {
              scales: { x: { title: { display: true, text: `${probe} band mean (round 0)` } }, y: { title: { display: true, text: `effectiveness (Δ ${tb.outputMetric})` } } },
              plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => { const p = c.raw as { x: number; y: number; name: string }; return `${p.name}: level ${num(p.x, 4)}, effectiveness ${signed(p.y)}`; } } } },
            },
            plugins: [
              {
                id: 'pointNames',
                afterDatasetsDraw(c) {
                  const ctx2 = c.ctx;
                  ctx2.save();
                  ctx2.fillStyle = t.fg;
                  ctx2.font = '11px sans-serif';
                  c.getDatasetMeta(0).data.forEach((el, k) => ctx2.fillText(pts[k]!.condition, el.x + 7, el.y - 6));
                  ctx2.restore();
                },
              },
            ],
          },
          `effectiveness of each instruction against the ${probe} level it induces`,
        ),
      ),
    );
  }
  root.append(
    section(
      'Instructions (round 0)',
      table(tb.rows, [
        { label: 'condition', cell: (x) => x.condition },
        { label: 'n', num: true, cell: (x) => int(x.n) },
        { label: tb.outputMetric, num: true, cell: (x) => (share ? pct(x.output) : num(x.output)) },
        { label: `change vs ${tb.reference ?? '—'}`, num: true, cell: (x) => signed(x.change) },
        { label: 'effectiveness', num: true, cell: (x) => signed(x.effectiveness) },
        ...probes.map((p) => ({ label: `${p} level`, num: true, cell: (x: (typeof tb.rows)[number]) => num(x.probeLevel[p] ?? null, 4) })),
      ]),
      h('p', { class: 'muted' }, `baseline ${tb.outputMetric}: ${share ? pct(tb.baselineOutput) : num(tb.baselineOutput)}`),
    ),
  );
  mountCharts(root);
};
