// chart.js set up once: only the controllers the pages use, animations off (first paint matters more), colours from
// the theme. Pages pass data computed by core/analysis; nothing here computes science.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
} from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import { h } from './dom';
import { theme } from './theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Filler, Legend, Tooltip, MatrixController, MatrixElement);

const live = new Set<Chart>();

/** Destroys the charts of the page being left (they hold canvases and listeners). */
export function destroyCharts(): void {
  for (const c of live) c.destroy();
  live.clear();
}

export function applyThemeDefaults(): void {
  const t = theme();
  Chart.defaults.color = t.fg;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily || 'system-ui, sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
}

/**
 * A chart in a sized box with an accessible label (the canvas has no text of its own), followed by its numbers as a
 * table behind a "Data" disclosure: for screen readers, keyboard users and copying.
 */
export function chart(config: ChartConfiguration, label: string, height = 260): HTMLElement {
  const canvas = h('canvas', { role: 'img', aria: { label: `${label} (the numbers are in the Data table below)` } });
  const box = h('div', { class: 'chart', style: { height: `${height}px` } }, canvas);
  // created after the box is in the document (chart.js measures its parent), see mountCharts
  (box as HTMLElement & { pending?: () => void }).pending = () => {
    live.add(new Chart(canvas, config));
  };
  return h('div', { class: 'chart-block' }, box, chartData(config, label));
}

type Point = { x?: unknown; y?: unknown; v?: unknown; lo?: unknown; hi?: unknown } | number | null | undefined;

function value(p: Point): string {
  if (p === null || p === undefined) return '—';
  if (typeof p === 'number') return fmt(p);
  const main = p.v !== undefined ? p.v : p.y;
  const iv = typeof p.lo === 'number' && typeof p.hi === 'number' ? ` [${fmt(p.lo)}, ${fmt(p.hi)}]` : '';
  return `${typeof main === 'number' ? fmt(main) : main === null || main === undefined ? '—' : String(main as string)}${iv}`;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** The chart's data as a table: one row per category label, one column per series (or one row per point). */
export function chartData(config: ChartConfiguration, label: string): HTMLElement {
  const datasets = config.data.datasets as Array<{ label?: string; data: Point[] }>;
  const labels = (config.data.labels ?? []) as unknown[];
  const th = (text: string, scope: 'col' | 'row') => {
    const cell = h('th', null, text);
    cell.scope = scope;
    return cell;
  };
  let head: HTMLElement;
  let rows: HTMLElement[];
  if (labels.length > 0) {
    head = h('tr', null, th('category', 'col'), ...datasets.map((d, i) => th(d.label ?? `series ${i + 1}`, 'col')));
    rows = labels.map((l, k) => h('tr', null, th(String(l), 'row'), ...datasets.map((d) => h('td', { class: 'num' }, value(d.data[k])))));
  } else {
    // points without category labels (heatmaps, scatter): x, y and the value, per series
    const hasV = datasets.some((d) => d.data.some((p) => typeof p === 'object' && p !== null && p.v !== undefined));
    head = h('tr', null, th('series', 'col'), th('x', 'col'), th('y', 'col'), hasV ? th('value', 'col') : null);
    rows = datasets.flatMap((d, i) =>
      d.data.map((p) => {
        const o = typeof p === 'object' && p !== null ? p : {};
        return h('tr', null, h('td', null, d.label ?? `series ${i + 1}`), h('td', null, String(o.x ?? '')), h('td', null, hasV ? String(o.y ?? '') : value(o.y as number)), hasV ? h('td', { class: 'num' }, value(o.v as number)) : null);
      }),
    );
  }
  return h('details', { class: 'chart-data' }, h('summary', null, 'Data'), h('table', { class: 'data' }, h('caption', { class: 'sr-only' }, label), h('thead', null, head), h('tbody', null, ...rows)));
}

/** Builds the charts of freshly inserted boxes. */
export function mountCharts(root: HTMLElement): void {
  for (const box of Array.from(root.querySelectorAll<HTMLElement & { pending?: () => void }>('.chart'))) {
    const p = box.pending;
    if (p) {
      box.pending = undefined;
      p();
    }
  }
}

/** Horizontal reference lines (baseline, controls) drawn under the data, labelled at the right edge. */
export function referenceLines(lines: Array<{ y: number; label: string; color: string }>): Plugin {
  return {
    id: 'referenceLines',
    beforeDatasetsDraw(c) {
      const y = c.scales.y;
      if (!y) return;
      const ctx = c.ctx;
      ctx.save();
      for (const l of lines) {
        const py = y.getPixelForValue(l.y);
        if (py < c.chartArea.top || py > c.chartArea.bottom) continue;
        ctx.strokeStyle = l.color;
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(c.chartArea.left, py);
        ctx.lineTo(c.chartArea.right, py);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = l.color;
        ctx.font = '11px sans-serif';
        ctx.textAlign = 'right';
        ctx.fillText(l.label, c.chartArea.right - 4, py - 4);
      }
      ctx.restore();
    },
  };
}

/** A shaded vertical band between two x values (the probe's layer band). */
export function xBand(lo: number, hi: number, label: string): Plugin {
  return {
    id: 'xBand',
    beforeDatasetsDraw(c) {
      const x = c.scales.x;
      if (!x) return;
      const ctx = c.ctx;
      const a = x.getPixelForValue(lo - 0.5);
      const b = x.getPixelForValue(hi + 0.5);
      ctx.save();
      ctx.fillStyle = 'rgba(128,128,128,0.12)';
      ctx.fillRect(a, c.chartArea.top, b - a, c.chartArea.bottom - c.chartArea.top);
      ctx.fillStyle = theme().muted;
      ctx.font = '11px sans-serif';
      ctx.fillText(label, a + 4, c.chartArea.top + 12);
      ctx.restore();
    },
  };
}

/** Vertical interval whiskers for line datasets that carry {lo, hi} on their points. */
export const intervalWhiskers: Plugin = {
  id: 'intervalWhiskers',
  afterDatasetsDraw(c) {
    const ctx = c.ctx;
    c.data.datasets.forEach((ds, i) => {
      const meta = c.getDatasetMeta(i);
      if (meta.hidden) return;
      (ds.data as Array<{ lo?: number; hi?: number } | null>).forEach((p, k) => {
        const el = meta.data[k];
        if (!p || p.lo === undefined || p.hi === undefined || !el) return;
        const y = c.scales.y!;
        const top = y.getPixelForValue(p.hi);
        const bot = y.getPixelForValue(p.lo);
        ctx.save();
        ctx.strokeStyle = String(ds.borderColor ?? theme().fg);
        ctx.lineWidth = 1.2;
        ctx.beginPath();
        ctx.moveTo(el.x, top);
        ctx.lineTo(el.x, bot);
        ctx.moveTo(el.x - 4, top);
        ctx.lineTo(el.x + 4, top);
        ctx.moveTo(el.x - 4, bot);
        ctx.lineTo(el.x + 4, bot);
        ctx.stroke();
        ctx.restore();
      });
    });
  },
};

/** A tiny line drawn straight on a canvas (hundreds per table: chart.js would be too heavy). */
export function sparkline(values: Array<number | null>, opts: { width?: number; height?: number; min?: number; max?: number; color?: string; invert?: boolean; label: string; band?: [number, number] }): HTMLCanvasElement {
  const w = opts.width ?? 80;
  const hgt = opts.height ?? 20;
  const dpr = window.devicePixelRatio || 1;
  const canvas = h('canvas', { class: 'spark', role: 'img', aria: { label: opts.label }, title: opts.label, style: { width: `${w}px`, height: `${hgt}px` } });
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext('2d');
  const xs = values.filter((v): v is number => v !== null);
  if (!ctx || xs.length === 0) return canvas;
  ctx.scale(dpr, dpr);
  const min = opts.min ?? Math.min(...xs);
  const max = opts.max ?? Math.max(...xs);
  const span = max - min || 1;
  const px = (i: number) => (values.length === 1 ? w / 2 : 2 + (i * (w - 4)) / (values.length - 1));
  const py = (v: number) => {
    const t = (v - min) / span;
    return 2 + (opts.invert ? t : 1 - t) * (hgt - 4);
  };
  if (opts.band) {
    ctx.fillStyle = 'rgba(128,128,128,0.18)';
    const a = px(opts.band[0]);
    ctx.fillRect(a, 0, px(opts.band[1]) - a, hgt);
  }
  ctx.strokeStyle = opts.color ?? theme().series[0]!;
  ctx.fillStyle = ctx.strokeStyle;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    if (pen) ctx.lineTo(px(i), py(v));
    else ctx.moveTo(px(i), py(v));
    pen = true;
  });
  ctx.stroke();
  if (values.length <= 12) values.forEach((v, i) => v !== null && ctx.fillRect(px(i) - 1.5, py(v) - 1.5, 3, 3));
  return canvas;
}
