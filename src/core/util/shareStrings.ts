// Browser-safe: one copy of each repeated string in a parsed value (items repeat most of their text).

/**
 * The value with every string in it replaced by the one equal string already in `table` (added when new), in place:
 * items repeat most of their text (the source file, labels, choices, questions, metadata), and a full BBQ's items
 * then take a fraction of the memory. The table stops growing at a million strings (later ones are kept as they are).
 */
export function shareStrings<T>(value: T, table: Map<string, string>): T {
  const share = (s: string): string => {
    const seen = table.get(s);
    if (seen !== undefined) return seen;
    if (table.size < 1_000_000) table.set(s, s);
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return share(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k]);
    }
    return v;
  };
  return walk(value) as T;
}
