import type { Experiment } from '../model/experiment';
import type { Diagnostic, Item } from '../model/item';
import { diagnosticAt, sourceOf } from './experimentYaml';
import { itemHasSlot, templateSlots } from './templates';
import type { SourceLocator } from './yamlLocator';

/**
 * Every required template slot must be fillable from every item: an unknown slot name (a typo like {qestion}) or a
 * field some items lack is an error before any request is sent. One diagnostic per slot, at its first use; the
 * location comes from the experiment file when the experiment was parsed from one (or from `source`).
 */
export function checkTemplatesAgainstItems(exp: Experiment, items: readonly Item[], source?: SourceLocator): Diagnostic[] {
  const loc = source ?? sourceOf(exp);
  const out: Diagnostic[] = [];
  const reported = new Map<string, Diagnostic>();
  const alsoIn = new Map<string, number>();
  exp.conditions.forEach((condition, i) => {
    condition.turns.forEach((turn, j) => {
      for (const part of ['user', 'prefill'] as const) {
        for (const slot of templateSlots(turn[part])) {
          if (slot.optional) continue;
          if (reported.has(slot.raw)) {
            alsoIn.set(slot.raw, (alsoIn.get(slot.raw) ?? 0) + 1);
            continue;
          }
          const lacking = items.filter((item) => !slot.names.some((name) => itemHasSlot(item, name)));
          if (lacking.length === 0) continue;
          const fields = [...new Set(items.flatMap((item) => [...Object.keys(item.fields), ...(item.choices ? ['choices'] : [])]))];
          const first = lacking[0];
          const where = first ? ` (first: item ${first.id}, ${first.source.file}:${first.source.line})` : '';
          const d = diagnosticAt(
            loc,
            ['conditions', i, 'turns', j, part],
            `template slot ${slot.raw}: ${lacking.length} of ${items.length} items have no such field${where}; the items have: ${fields.join(', ') || 'no fields'}`,
          );
          reported.set(slot.raw, d);
          out.push(d);
        }
      }
    });
  });
  for (const [raw, n] of alsoIn) {
    const d = reported.get(raw);
    if (d) d.message += ` (also used in ${n} other turn${n === 1 ? '' : 's'})`;
  }
  return out;
}
