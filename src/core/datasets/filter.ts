import type { Item } from '../model/item';

export type ItemFilter = Record<string, Array<string | number | boolean>>;

/** The value a filter key names: 'id', 'kind', a field, or a meta entry (dotted paths reach into nested meta). */
export function itemValue(item: Item, key: string): unknown {
  if (key === 'id') return item.id;
  if (key === 'kind') return item.kind;
  if (Object.hasOwn(item.fields, key)) return item.fields[key];
  if (Object.hasOwn(item.meta, key)) return item.meta[key];
  let v: unknown = item.meta;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function matches(value: unknown, wanted: Array<string | number | boolean>): boolean {
  if (value === undefined || value === null) return false;
  // experiment files are YAML: `questionIndex: [1]` should match the string "1" and vice versa
  return wanted.some((w) => w === value || (typeof value !== 'object' && String(w) === String(value)));
}

/** Does every filter key of the item have one of the listed values? */
export function itemMatches(item: Item, filter?: ItemFilter): boolean {
  return filter === undefined || Object.entries(filter).every(([k, vs]) => matches(itemValue(item, k), vs));
}

/** Keep the items whose every filter key has one of the listed values, then the first `limit` of them. */
export function applyFilter(items: Item[], filter?: ItemFilter, limit?: number): Item[] {
  const kept = Object.keys(filter ?? {}).length === 0 ? items : items.filter((it) => itemMatches(it, filter));
  return limit === undefined ? kept : kept.slice(0, Math.max(0, limit));
}
