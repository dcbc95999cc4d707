// What every page gets: the bridge to the host, the persisted view state, the run's overview and navigation.
import type { Bridge } from './bridge';
import type { OverviewResult, Unavailable } from '../src/core/viewer/protocol';
import { emptyState } from './dom';
import type { Page, ViewState } from './state';

export interface PageContext {
  bridge: Bridge;
  state: ViewState;
  overview: OverviewResult;
  /** persist the state (call after changing it) */
  save(): void;
  navigate(page: Page): void;
  openItem(itemId: string): void;
  /** re-render the current page (after a filter change) */
  refresh(): void;
}

export type PageRenderer = (root: HTMLElement, ctx: PageContext) => Promise<void>;

/** A page's data when the run has it; when it has none (no ranks, no probes, no second run…) the page says why. */
export function availableOrSay<T extends { available: true }>(root: HTMLElement, r: Unavailable | T): T | null {
  if (r.available) return r;
  root.append(emptyState(r.reason));
  return null;
}
