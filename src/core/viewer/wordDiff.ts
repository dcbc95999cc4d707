// Browser-safe: a word-level diff of two answers for display (what was kept, added, removed between rounds). This
// is presentation, not science: the measures of change (edit distance, keep-and-append) live in core/analysis.
import type { DiffOp } from './protocol';

/** Words and the whitespace after them stay separate tokens so the diff reads naturally and rejoins exactly. */
export function tokenize(s: string): string[] {
  return s.match(/\s+|[^\s]+/g) ?? [];
}

/** Above this many token pairs the LCS table is not built: the answers are shown as one removal and one addition. */
const MAX_CELLS = 4_000_000;

/** Longest-common-subsequence diff over tokens; consecutive ops of the same kind are merged. */
export function wordDiff(a: string, b: string): DiffOp[] {
  const x = tokenize(a);
  const y = tokenize(b);
  // common prefix and suffix first: consecutive answers usually share most of their text
  let p = 0;
  while (p < x.length && p < y.length && x[p] === y[p]) p++;
  let s = 0;
  while (s < x.length - p && s < y.length - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  const xm = x.slice(p, x.length - s);
  const ym = y.slice(p, y.length - s);
  const ops: DiffOp[] = [];
  const push = (op: DiffOp['op'], text: string) => {
    if (text === '') return;
    const last = ops[ops.length - 1];
    if (last && last.op === op) last.text += text;
    else ops.push({ op, text });
  };
  push('eq', x.slice(0, p).join(''));
  if (xm.length * ym.length > MAX_CELLS) {
    push('del', xm.join(''));
    push('ins', ym.join(''));
  } else {
    const n = xm.length;
    const m = ym.length;
    // lcs[i][j] = LCS length of xm[i..] and ym[j..], one flat array
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = xm[i] === ym[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (xm[i] === ym[j]) {
        push('eq', xm[i++]!);
        j++;
      } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) push('del', xm[i++]!);
      else push('ins', ym[j++]!);
    }
    while (i < n) push('del', xm[i++]!);
    while (j < m) push('ins', ym[j++]!);
  }
  push('eq', x.slice(x.length - s).join(''));
  return ops;
}
