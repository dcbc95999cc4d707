import type { Condition, Experiment } from '../model/experiment';
import type { Item } from '../model/item';

/** One item under one condition: its rounds run in order, chains run concurrently. */
export interface Chain {
  item: Item;
  condition: Condition;
  rounds: number;
}

/**
 * Item × condition × round. Conditions are interleaved per item so that a run stopped early still holds complete
 * comparisons (every condition of the first items) rather than one condition of many items.
 */
export function planChains(items: Item[], exp: Experiment): Chain[] {
  const chains: Chain[] = [];
  for (const item of items) {
    for (const condition of exp.conditions) chains.push({ item, condition, rounds: condition.rounds });
  }
  return chains;
}

export function plannedRecords(chains: Chain[]): number {
  return chains.reduce((n, c) => n + c.rounds, 0);
}
