// What every page gets: the bridge to the host, the persisted view state, the run's overview and navigation.
import type { Bridge } from './bridge';
import type { OverviewResult } from '../src/core/viewer/protocol';
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
