// Causal: the dose–response of steering along a probe direction (alpha → probe band shift → output change), the
// instruction's own point beside it, and the verdict — all computed by core/analysis/causal; this page only draws.
import type { CausalRow } from '../../src/core/analysis/causal';
import { chart, mountCharts } from '../charts';
import { h, section } from '../dom';
import { ci, num } from '../format';
import { table } from '../table';
import { theme } from '../theme';
import { availableOrSay, type PageRenderer } from '../context';

const badgeClass = (c: CausalRow['case']): string => (c === 'superficial' ? 'badge warn' : c === 'through-direction' ? 'badge good' : 'badge');

function doseChart(row: CausalRow): HTMLElement {
  const t = theme();
  const steered = row.points.filter((p) => !p.ablate && p.probeShift && p.outputChange);
  const inst = row.instruction?.probeShift && row.instruction.outputChange ? row.instruction : null;
  const slope = row.steeringSlope?.estimate ?? null;
  const xs = [...steered.map((p) => p.probeShift!.estimate), ...(inst ? [inst.probeShift!.estimate] : []), 0];
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  // a named point (its `name` is read by the tooltip), not a literal in the dataset: Chart.js' point type has only x, y
  const instPoint = inst ? { x: inst.probeShift!.estimate, y: inst.outputChange!.estimate, name: `${inst.condition} r${inst.round}` } : null;
  return chart(
    {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'steered (alpha)', data: steered.map((p) => ({ x: p.probeShift!.estimate, y: p.outputChange!.estimate, name: `alpha ${p.alpha}` })), backgroundColor: t.series[0], pointRadius: 5 },
          ...(instPoint ? [{ label: 'instruction', data: [instPoint], backgroundColor: t.series[1], pointRadius: 7, pointStyle: 'rectRot' as const }] : []),
          ...(slope !== null ? [{ type: 'line' as const, label: 'steering slope', data: [{ x: lo, y: slope * lo }, { x: hi, y: slope * hi }], borderColor: t.series[0], borderDash: [4, 4], pointRadius: 0 }] : []),
        ],
      },
      options: {
        scales: { x: { type: 'linear', title: { display: true, text: `Δ ${row.probe} band ${row.band[0]}–${row.band[1]} (${row.measure})` } }, y: { title: { display: true, text: `Δ ${row.outputMetric}` } } },
        plugins: { tooltip: { callbacks: { label: (c) => { const p = c.raw as { x: number; y: number; name?: string }; return `${p.name ?? ''}: shift ${num(p.x, 4)}, output ${num(p.y, 4)}`; } } } },
      },
    },
    `output change against probe shift for each steering strength of ${row.probe}, the instruction as a separate point, and the steering slope as a dashed line`,
  );
}

export const renderCausal: PageRenderer = async (root, ctx) => {
  const r = availableOrSay(root, await ctx.bridge.request('causal', {}));
  if (!r) return;
  const level = `${Math.round(r.level * 100)}%`;
  for (const row of r.rows) {
    root.append(
      section(
        `Steering along ${row.probe}`,
        h('p', null, h('span', { class: badgeClass(row.case) }, row.case), ' ', row.verdict),
        h('p', { class: 'muted' }, `round 0 of each steered condition against ${row.reference}, paired by item; intervals: ${level} bootstrap over items. Steering slope ${ci(row.steeringSlope)} Δ ${row.outputMetric} per unit shift; the instruction's ratio ${num(row.instructionRatio)}; the instruction beyond the slope's prediction ${ci(row.excess)}.`),
        doseChart(row),
        table(
          [
            ...row.points.map((p) => ({ name: p.condition, alpha: p.ablate ? 'ablate' : String(p.alpha), layers: p.layers, shift: p.probeShift, change: p.outputChange, output: p.output })),
            ...(row.instruction ? [{ name: `${row.instruction.condition} r${row.instruction.round}`, alpha: 'instruction', layers: '—', shift: row.instruction.probeShift, change: row.instruction.outputChange, output: null }] : []),
          ],
          [
            { label: 'condition', cell: (x) => x.name },
            { label: 'alpha', num: true, cell: (x) => x.alpha },
            { label: 'layers', cell: (x) => x.layers },
            { label: `Δ ${row.probe} band`, num: true, cell: (x) => ci(x.shift) },
            { label: `Δ ${row.outputMetric}`, num: true, cell: (x) => ci(x.change) },
            { label: row.outputMetric, num: true, cell: (x) => num(x.output) },
          ],
          `dose–response of ${row.probe}`,
        ),
      ),
    );
  }
  mountCharts(root);
};
