// Browser-safe: records grouped by condition, round and item, joined with the planned items.
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';

export type ConditionKind = Experiment['conditions'][number]['kind'];

export interface RunIndex {
  /** the experiment's order, then conditions only the records name, in first-seen order */
  conditions: string[];
  kinds: Map<string, ConditionKind>;
  /** condition → round → itemId → record (items in the plan's order, see inItemOrder) */
  cells: Map<string, Map<number, ReadonlyMap<string, RoundRecord>>>;
  items: Map<string, Item>;
  task: 'mcq' | 'generation';
}

export function indexRun(records: readonly RoundRecord[], items: readonly Item[], experiment?: Experiment): RunIndex {
  const conditions = experiment ? experiment.conditions.map((c) => c.name) : [];
  const kinds = new Map<string, ConditionKind>(experiment?.conditions.map((c) => [c.name, c.kind]) ?? []);
  const cells = new Map<string, Map<number, Map<string, RoundRecord>>>();
  for (const r of records) {
    if (!conditions.includes(r.condition)) conditions.push(r.condition);
    if (!kinds.has(r.condition)) kinds.set(r.condition, guessKind(r.condition));
    let byRound = cells.get(r.condition);
    if (!byRound) cells.set(r.condition, (byRound = new Map()));
    let byItem = byRound.get(r.round);
    if (!byItem) byRound.set(r.round, (byItem = new Map()));
    byItem.set(r.itemId, r);
  }
  const position = plannedPositions(items);
  for (const byRound of cells.values()) {
    for (const [round, byItem] of byRound) byRound.set(round, new Map(inItemOrder(position, byItem.keys()).map((id) => [id, byItem.get(id)!])));
  }
  const itemMap = new Map(items.map((i) => [i.id, i]));
  const task = experiment?.task ?? (items.length > 0 && items.every((i) => i.kind === 'generation') ? 'generation' : 'mcq');
  return { conditions: conditions.filter((c) => cells.has(c)), kinds, cells, items: itemMap, task };
}

/** Each planned item's position in the plan (items.jsonl's order; the first, should an id repeat). */
export function plannedPositions(items: readonly Item[]): Map<string, number> {
  const position = new Map<string, number>();
  items.forEach((item, i) => {
    if (!position.has(item.id)) position.set(item.id, i);
  });
  return position;
}

/**
 * Item ids in the order a cell's items are read: the planned items in the plan's order, then any other ids sorted.
 * Not the order of the records in the file, which follows the order requests finished in: a statistic drawn over
 * items (a bootstrap's resamples) then gives the same numbers for the same records however a run went.
 */
export function inItemOrder(position: ReadonlyMap<string, number>, ids: Iterable<string>): string[] {
  const planned: string[] = [];
  const other: string[] = [];
  for (const id of ids) (position.has(id) ? planned : other).push(id);
  planned.sort((a, b) => position.get(a)! - position.get(b)!);
  other.sort();
  return planned.concat(other);
}

/** Without an experiment (hand-made records), names decide: the presets' names are the conventions. */
export function guessKind(name: string): ConditionKind {
  if (name === 'baseline') return 'baseline';
  if (name === 'self-correct') return 'self-correct';
  if (name.startsWith('variant')) return 'variant';
  return 'control';
}

export function roundsOf(ix: RunIndex, condition: string): number[] {
  return [...(ix.cells.get(condition)?.keys() ?? [])].sort((a, b) => a - b);
}

export function cell(ix: RunIndex, condition: string, round: number): ReadonlyMap<string, RoundRecord> {
  return ix.cells.get(condition)?.get(round) ?? new Map();
}

/** The reference condition: the first of kind baseline. */
export function baselineOf(ix: RunIndex): string | undefined {
  return ix.conditions.find((c) => ix.kinds.get(c) === 'baseline');
}
