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
export function checkTemplatesAgainstItems(exp: Experiment, items: readonly Item[] | ItemShapes, source?: SourceLocator): Diagnostic[] {
  const shapes = items instanceof ItemShapes ? items : ItemShapes.of(items);
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
          const lacking = shapes.shapes.filter((shape) => !slot.names.some((name) => itemHasSlot(shape.first, name)));
          const lackingCount = lacking.reduce((n, shape) => n + shape.items, 0);
          if (lackingCount === 0) continue;
          const fields = [...new Set(shapes.shapes.flatMap((shape) => [...Object.keys(shape.first.fields), ...(shape.first.choices ? ['choices'] : [])]))];
          // shapes come in the order of their first items: the first lacking shape holds the first lacking item
          const first = lacking[0]!.first;
          const where = ` (first: item ${first.id}, ${first.source.file}:${first.source.line})`;
          const d = diagnosticAt(
            loc,
            ['conditions', i, 'turns', j, part],
            `template slot ${slot.raw}: ${lackingCount} of ${shapes.items} items have no such field${where}; the items have: ${fields.join(', ') || 'no fields'}`,
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

/**
 * What the template check reads of the items, gathered one item at a time (a run's dataset is streamed, not held):
 * the items grouped by shape (their fields' names in order, and whether they have options), each shape with its
 * first item and its count. Every item of a shape has the same slots, so the check gives the same diagnostics from
 * the shapes as from the items; a dataset has a handful of shapes, however many items.
 */
export class ItemShapes {
  readonly shapes: Array<{ first: Item; items: number }> = [];
  private readonly byKey = new Map<string, { first: Item; items: number }>();
  items = 0;

  static of(items: readonly Item[]): ItemShapes {
    const shapes = new ItemShapes();
    for (const item of items) shapes.add(item);
    return shapes;
  }

  add(item: Item): void {
    const key = `${item.choices === undefined ? '-' : item.choices.length > 0 ? '+' : '0'}\u0000${Object.keys(item.fields).join('\u0000')}`;
    const shape = this.byKey.get(key);
    if (shape) shape.items++;
    else {
      const fresh = { first: item, items: 1 };
      this.byKey.set(key, fresh);
      this.shapes.push(fresh);
    }
    this.items++;
  }
}
