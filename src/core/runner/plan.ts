import type { Condition, Experiment } from '../model/experiment';
import type { Item } from '../model/item';

/** One item under one condition: its rounds run in order, chains run concurrently. */
export interface Chain {
  item: Item;
  condition: Condition;
  rounds: number;
}

/**
 * The plan is item × condition × round, walked by chain number (`chainAt`) rather than held as a list, so a run keeps
 * no object per item × condition. Conditions are interleaved per item so that a run stopped early still holds complete
 * comparisons (every condition of the first items) rather than one condition of many items.
 */
export function chainCount(items: { readonly length: number }, exp: Experiment): number {
  return items.length * exp.conditions.length;
}

/** The item of the plan's chain number `i`: i / conditions. */
export function chainItemIndex(exp: Experiment, i: number): number {
  return Math.floor(i / exp.conditions.length);
}

/** The plan's chain number `i` of its item (`chainItemIndex`): condition i mod conditions. */
export function chainAt(item: Item, exp: Experiment, i: number): Chain {
  const condition = exp.conditions[i % exp.conditions.length]!;
  return { item, condition, rounds: condition.rounds };
}

/** The records the plan asks for: items × the rounds of every condition. */
export function plannedRecordCount(items: { readonly length: number }, exp: Experiment): number {
  return items.length * exp.conditions.reduce((n, c) => n + c.rounds, 0);
}
