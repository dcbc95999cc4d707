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
