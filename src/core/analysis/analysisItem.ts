// Browser-safe: an item as analysis reads it. Every statistic reads an item's id, kind, options (choices, choice
// labels), gold answer and metadata (BBQ's category, polarity, context condition, unknown and target options;
// Winogender's occupation statistics): never its template text (`fields`: the context, question, prompt), which is
// most of an item's memory and is read only by the conversation builder and the viewer's pages.
import type { Item } from '../model/item';

// cast: one frozen empty record serves every analysis item; frozen is readonly, which Item's field type does not admit
const NO_FIELDS: Item['fields'] = Object.freeze({}) as Item['fields'];

/** The item without its template text (see the top of this file): analysis gives the same numbers from it. */
export function analysisItem(item: Item): Item {
  const out: Item = { id: item.id, kind: item.kind, source: item.source, fields: NO_FIELDS, meta: item.meta };
  if (item.choices !== undefined) out.choices = item.choices;
  if (item.choiceLabels !== undefined) out.choiceLabels = item.choiceLabels;
  if (item.answer !== undefined) out.answer = item.answer;
  return out;
}

/** strings and arrays kept shared, at most (a table that stops growing keeps later values as they are) */
const MAX_SHARED = 1_000_000;

/**
 * Analysis items that share what items repeat (see `add`): a full BBQ's 58,492 items repeat their options, labels and
 * group lists thousands of times, and an array is 50–90 bytes, so sharing them takes items from ~500 to ~250 bytes
 * each. Shared arrays are frozen: analysis only reads items, and a write would otherwise change every item at once.
 */
export class AnalysisItems {
  private readonly strings = new Map<string, string>();
  private readonly arrays = new Map<string, readonly unknown[]>();

  /** The analysis item of `item`, its strings and its arrays of strings and numbers shared with earlier items. */
  add(item: Item): Item {
    const out = analysisItem(item);
    out.id = this.string(out.id);
    out.source = { ...out.source, file: this.string(out.source.file) };
    if (out.choices) out.choices = this.array(out.choices);
    if (out.choiceLabels) out.choiceLabels = this.array(out.choiceLabels);
    out.meta = this.record(out.meta);
    return out;
  }

  private string(s: string): string {
    const seen = this.strings.get(s);
    if (seen !== undefined) return seen;
    if (this.strings.size < MAX_SHARED) this.strings.set(s, s);
    return s;
  }

  // cast: a shared array is frozen (readonly); the item's field types are mutable arrays, which analysis never writes
  private array<T>(a: readonly T[]): T[] {
    // JSON writes -0 as 0: an array holding it is not shared, so that it keeps its own value exactly
    if (!a.every((v) => typeof v === 'string' || (typeof v === 'number' && !Object.is(v, -0)) || typeof v === 'boolean' || v === null)) return a.map((v) => this.value(v) as T);
    const key = JSON.stringify(a);
    const seen = this.arrays.get(key);
    if (seen !== undefined) return seen as T[];
    const shared = Object.freeze(a.map((v) => (typeof v === 'string' ? this.string(v) : v)));
    if (this.arrays.size < MAX_SHARED) this.arrays.set(key, shared);
    return shared as T[];
  }

  private value(v: unknown): unknown {
    if (typeof v === 'string') return this.string(v);
    if (Array.isArray(v)) return this.array(v);
    if (v !== null && typeof v === 'object') return this.record(v as Record<string, unknown>);
    return v;
  }

  // fromEntries defines each key as an own property (a key "__proto__" stays a key)
  private record(o: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [this.string(k), this.value(v)]));
  }
}
