// Number formatting shared by every page: fixed digits, "—" for missing values.
import type { Interval } from '../src/core/analysis/stats';

export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return x.toFixed(digits);
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined) return '—';
  return `${(x * 100).toFixed(digits)}%`;
}

export function signed(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '—';
  return `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(digits)}`;
}

export function ci(iv: Interval | null | undefined, digits = 3): string {
  if (!iv) return '—';
  return `${signed(iv.estimate, digits)} [${signed(iv.lo, digits)}, ${signed(iv.hi, digits)}]`;
}

export function pValue(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

export function int(n: number): string {
  return n.toLocaleString('en-US');
}
