// Browser-safe: how much a generation changed between consecutive rounds.

/** Levenshtein distance over UTF-16 code units, O(|a|·|b|) time and O(min) memory (two rows). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length < b.length) [a, b] = [b, a];
  // strip the common prefix and suffix: consecutive answers often share long stretches
  let start = 0;
  while (start < b.length && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let endA = a.length;
  let endB = b.length;
  while (endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  const m = endB - start;
  if (m === 0) return endA - start;
  let prev = new Uint32Array(m + 1);
  let cur = new Uint32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= endA - start; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(start + i - 1);
    for (let j = 1; j <= m; j++) {
      const cost = ca === b.charCodeAt(start + j - 1) ? 0 : 1;
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      const sub = prev[j - 1]! + cost;
      cur[j] = del < ins ? (del < sub ? del : sub) : ins < sub ? ins : sub;
    }
    [prev, cur] = [cur, prev];
  }
  return prev[m]!;
}

/** Levenshtein distance / the longer length: 0 = identical, 1 = nothing in common; 0 for two empty strings. */
export function normalizedEditDistance(a: string, b: string): number {
  const max = Math.max(a.length, b.length);
  return max === 0 ? 0 : levenshtein(a, b) / max;
}

/**
 * True when `next` keeps `prev` (as a prefix or a substring, whitespace-trimmed) and only adds text: the paper's
 * "appends harmless text instead of revising" pattern. An empty previous answer does not count.
 */
export function keepsAndAppends(prev: string, next: string): boolean {
  const p = prev.trim();
  const n = next.trim();
  return p.length > 0 && n.length > p.length && n.includes(p);
}
