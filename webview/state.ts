// What survives a reload of the page: which page, what is selected, the filters and the scroll position.
import { VIEWER_PAGES, type SampleFilter, type SampleSort, type ViewerPage } from '../src/core/viewer/protocol';

export const PAGES = VIEWER_PAGES;
export type Page = ViewerPage;

export interface ViewState {
  v: 1;
  page: Page;
  selection: { itemId?: string };
  scroll: Partial<Record<Page | 'samplesTable', number>>;
  samples: { filter: SampleFilter; sort: SampleSort };
  probes: { probe?: string; condition?: string };
  ranks: { transition?: number; splitBy: 'round0' | 'baseline' };
}

export function defaultState(): ViewState {
  return { v: 1, page: 'overview', selection: {}, scroll: {}, samples: { filter: {}, sort: { key: 'item', dir: 'asc' } }, probes: {}, ranks: { splitBy: 'round0' } };
}

/** A persisted state is trusted only as far as its shape: anything unexpected falls back to the default. */
export function restoreState(raw: unknown): ViewState {
  const d = defaultState();
  if (!raw || typeof raw !== 'object') return d;
  const s = raw as Partial<ViewState>;
  if (s.v !== 1) return d;
  return {
    v: 1,
    page: PAGES.includes(s.page as Page) ? (s.page as Page) : d.page,
    selection: typeof s.selection?.itemId === 'string' ? { itemId: s.selection.itemId } : {},
    scroll: s.scroll && typeof s.scroll === 'object' ? s.scroll : {},
    samples: s.samples && typeof s.samples === 'object' && s.samples.sort ? s.samples : d.samples,
    probes: s.probes && typeof s.probes === 'object' ? s.probes : {},
    ranks: s.ranks?.splitBy === 'baseline' ? { ...s.ranks, splitBy: 'baseline' } : { ...(s.ranks ?? {}), splitBy: 'round0' },
  };
}
