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
