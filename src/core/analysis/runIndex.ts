// Browser-safe: records grouped by condition, round and item, joined with the planned items.
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';

export type ConditionKind = Experiment['conditions'][number]['kind'];

export interface RunIndex {
  /** the experiment's order, then conditions only the records name, in first-seen order */
  conditions: string[];
  kinds: Map<string, ConditionKind>;
  /** condition → round → itemId → record */
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
  const itemMap = new Map(items.map((i) => [i.id, i]));
  const task = experiment?.task ?? (items.length > 0 && items.every((i) => i.kind === 'generation') ? 'generation' : 'mcq');
  return { conditions: conditions.filter((c) => cells.has(c)), kinds, cells, items: itemMap, task };
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
