// Minimal inline-SVG charts for the static report: they draw what analysis computed, nothing more.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface LineSeries {
  name: string;
  /** y per x; null = no value */
  points: Array<{ x: number; y: number | null }>;
  dashed?: boolean;
}

const W = 560;
const H = 260;
const M = { left: 48, right: 150, top: 16, bottom: 36 };

function niceTicks(min: number, max: number, n = 5): number[] {
  if (max <= min) return [min];
  const step = (max - min) / (n - 1);
  return Array.from({ length: n }, (_, i) => min + i * step);
}

export function lineChart(title: string, series: LineSeries[], opts: { yMin?: number; yMax?: number; yFormat?: (v: number) => string; xLabel: string; invertY?: boolean }): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y).filter((y): y is number => y !== null));
  if (xs.length === 0 || ys.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const yMin = opts.yMin ?? Math.min(...ys);
  const yMax = opts.yMax ?? Math.max(...ys, yMin + 1e-9);
  const fmt = opts.yFormat ?? ((v: number) => v.toFixed(2));
  const px = (x: number) => M.left + ((x - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const pyRaw = (y: number) => M.top + (1 - (y - yMin) / (yMax - yMin || 1)) * (H - M.top - M.bottom);
  const py = (y: number) => (opts.invertY ? H - M.bottom - (pyRaw(y) - M.top) : pyRaw(y));
  const parts: string[] = [];
  for (const t of niceTicks(yMin, yMax)) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${escapeHtml(fmt(t))}</text>`);
  }
  for (let x = xMin; x <= xMax; x++) parts.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${x}</text>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 4}" text-anchor="middle">${escapeHtml(opts.xLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter((p) => p.y !== null) as Array<{ x: number; y: number }>;
    if (pts.length > 1) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`);
    }
    for (const p of pts) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${color}"><title>${escapeHtml(`${s.name}, round ${p.x}: ${fmt(p.y)}`)}</title></circle>`);
    const ly = M.top + 14 * i + 8;
    parts.push(`<rect x="${W - M.right + 10}" y="${ly - 8}" width="10" height="10" fill="${color}"/><text x="${W - M.right + 24}" y="${ly + 1}">${escapeHtml(s.name)}</text>`);
  });
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

/** One stacked bar per round: the share of records whose gold option ranked 1, 2, 3 … */
export function stackedShareChart(title: string, bars: Array<{ label: string; counts: number[] }>, legend: string[]): string {
  if (bars.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const bw = Math.min(48, (W - M.left - M.right) / bars.length - 10);
  const parts: string[] = [];
  const plotH = H - M.top - M.bottom;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const y = M.top + (1 - t) * plotH;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" class="grid"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${Math.round(t * 100)}%</text>`);
  }
  bars.forEach((b, i) => {
    const total = b.counts.reduce((a, c) => a + c, 0) || 1;
    const x = M.left + 8 + i * (bw + 10);
    let y = M.top + plotH;
    b.counts.forEach((c, k) => {
      const h = (c / total) * plotH;
      y -= h;
      parts.push(`<rect x="${x}" y="${y}" width="${bw}" height="${h}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeHtml(`${b.label}: ${legend[k] ?? `rank ${k + 1}`} ${c}/${total}`)}</title></rect>`);
    });
    parts.push(`<text x="${x + bw / 2}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeHtml(b.label)}</text>`);
  });
  legend.forEach((l, k) => {
    const ly = M.top + 14 * k + 8;
    parts.push(`<rect x="${W - M.right + 10}" y="${ly - 8}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${W - M.right + 24}" y="${ly + 1}">${escapeHtml(l)}</text>`);
  });
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

/**
 * A heatmap (rows × columns) with a diverging scale symmetric around 0 that auto-scales to the largest magnitude
 * (probe cosines are often |x| ≈ 0.01–0.03). Empty cells are grey.
 */
export function heatmap({ title, rowLabels, colLabels, values, fmt = (v) => v.toFixed(4) }: { title: string; rowLabels: string[]; colLabels: string[]; values: Array<Array<number | null>>; fmt?: (v: number) => string }): string {
  const all = values.flat().filter((v): v is number => v !== null);
  if (all.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p class="empty">no data</p></figure>`;
  const maxAbs = Math.max(...all.map(Math.abs)) || 1;
  const left = 56;
  const top = 12;
  const cw = Math.max(18, Math.min(60, (W - left - 90) / Math.max(1, colLabels.length)));
  const ch = Math.max(6, Math.min(18, 360 / Math.max(1, rowLabels.length)));
  const h = top + ch * rowLabels.length + 34;
  const color = (v: number) => {
    const t = Math.max(-1, Math.min(1, v / maxAbs));
    // blue (negative) – white – red (positive)
    const r = t > 0 ? 255 : Math.round(255 * (1 + t));
    const b = t < 0 ? 255 : Math.round(255 * (1 - t));
    const g = Math.round(255 * (1 - Math.abs(t)));
    return `rgb(${r},${g},${b})`;
  };
  const parts: string[] = [];
  const step = Math.ceil(rowLabels.length / 24);
  rowLabels.forEach((rl, i) => {
    const y = top + i * ch;
    if (i % step === 0) parts.push(`<text x="${left - 6}" y="${y + ch / 2 + 4}" text-anchor="end">${escapeHtml(rl)}</text>`);
    colLabels.forEach((cl, j) => {
      const v = values[i]?.[j] ?? null;
      parts.push(`<rect x="${left + j * cw}" y="${y}" width="${cw}" height="${ch}" fill="${v === null ? '#ccc' : color(v)}"><title>${escapeHtml(`${rl}, ${cl}: ${v === null ? 'no data' : fmt(v)}`)}</title></rect>`);
    });
  });
  colLabels.forEach((cl, j) => parts.push(`<text x="${left + j * cw + cw / 2}" y="${top + ch * rowLabels.length + 14}" text-anchor="middle">${escapeHtml(cl)}</text>`));
  const lx = left + colLabels.length * cw + 14;
  parts.push(`<rect x="${lx}" y="${top}" width="10" height="10" fill="${color(maxAbs)}"/><text x="${lx + 14}" y="${top + 9}">${escapeHtml(fmt(maxAbs))}</text>`);
  parts.push(`<rect x="${lx}" y="${top + 16}" width="10" height="10" fill="${color(0)}" stroke="#999"/><text x="${lx + 14}" y="${top + 25}">0</text>`);
  parts.push(`<rect x="${lx}" y="${top + 32}" width="10" height="10" fill="${color(-maxAbs)}"/><text x="${lx + 14}" y="${top + 41}">${escapeHtml(fmt(-maxAbs))}</text>`);
  const w = Math.max(W, lx + 90);
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}
