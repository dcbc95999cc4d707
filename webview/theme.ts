// Colours from VS Code's theme (its CSS variables), with fallbacks for the browser hosts (viewer.css sets --sc-*).

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  /** categorical series colours */
  series: string[];
  good: string;
  bad: string;
}

export function theme(): Theme {
  return {
    fg: cssVar('--sc-fg', '#333'),
    muted: cssVar('--sc-muted', '#777'),
    grid: cssVar('--sc-grid', 'rgba(128,128,128,0.25)'),
    bg: cssVar('--sc-bg', '#fff'),
    series: ['--sc-c1', '--sc-c2', '--sc-c3', '--sc-c4', '--sc-c5', '--sc-c6'].map((v, i) => cssVar(v, ['#1a85ff', '#d83a3a', '#388a34', '#bf8803', '#652d90', '#d18616'][i]!)),
    good: cssVar('--sc-good', '#388a34'),
    bad: cssVar('--sc-bad', '#d83a3a'),
  };
}

/** A colour with alpha, from #rrggbb or rgb(…) (what the theme variables hold). */
export function alpha(color: string, a: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(',').map((x) => x.trim());
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  return color;
}

/** Diverging scale for signed values around 0 (probe cosines): blue below, red above, grey near 0. */
export function diverging(v: number | null, maxAbs: number): string {
  if (v === null) return 'rgba(128,128,128,0.15)';
  const t = Math.max(-1, Math.min(1, maxAbs > 0 ? v / maxAbs : 0));
  return t >= 0 ? `rgba(214, 69, 65, ${0.12 + 0.85 * t})` : `rgba(38, 110, 214, ${0.12 + 0.85 * -t})`;
}

/** Sequential scale for counts/shares 0…1. */
export function sequential(t: number): string {
  return `rgba(26, 133, 255, ${0.06 + 0.9 * Math.max(0, Math.min(1, t))})`;
}
