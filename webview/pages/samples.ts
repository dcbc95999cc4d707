// Samples: a virtualised table over paged data (the host filters and sorts; only the visible pages are asked for),
// and the selected item's detail below it.
import type { SampleRow, SampleSort, SamplesResult } from '../../src/core/viewer/protocol';
import { sparkline } from '../charts';
import { ce, clear, emptyState, h, type SingleSelect } from '../dom';
import { int, num } from '../format';
import { RequestError } from '../bridge';
import { renderItem, revealInDataset } from './item';
import type { PageContext, PageRenderer } from '../context';

const ROW_H = 30;
/** the sticky header row's height (media/viewer/viewer.css .vhead) */
const HEAD_H = 32;
const PAGE = 100;
const OVERSCAN = 10;

const COLUMNS: Array<{ label: string; sort?: SampleSort['key']; cls: string; title?: string }> = [
  { label: 'item', sort: 'item', cls: 'c-id' },
  { label: 'line', sort: 'line', cls: 'c-line num' },
  { label: 'condition', cls: 'c-cond' },
  { label: 'text', cls: 'c-text' },
  { label: 'answers by round', cls: 'c-rounds', title: '✓ correct, ✗ wrong, ? unparsed, ! error; the digit is the gold rank' },
  { label: 'rank 1st', title: 'gold rank in the condition\'s first round', sort: 'rankFirst', cls: 'c-rank num' },
  { label: 'rank last', title: 'gold rank in the condition\'s last round', sort: 'rankLast', cls: 'c-rank num' },
  { label: 'Δ rank', sort: 'rankChange', cls: 'c-rank num' },
  { label: 'band', sort: 'bandLast', cls: 'c-band', title: 'band score per round (sorts by the last round)' },
  { label: 'Δ band', sort: 'bandChange', cls: 'c-band-d num' },
];

function roundChips(r: SampleRow): HTMLElement {
  return h(
    'span',
    { class: 'chips' },
    ...r.rounds.map((x) => {
      const mark = x.error ? '!' : x.correct === null ? '?' : x.correct ? '✓' : '✗';
      const cls = x.error ? 'chip err' : x.correct === null ? 'chip' : x.correct ? 'chip good' : 'chip bad';
      return h('span', { class: cls, title: `round ${x.round}: ${x.error ?? `${x.answer ?? 'unparsed'}${x.goldRank !== null ? `, gold rank ${x.goldRank}` : ''}`}` }, `${mark}${x.goldRank ?? ''}`);
    }),
  );
}

/** the id of the row element at a table index (the grid points at it with aria-activedescendant) */
const rowId = (index: number) => `sample-row-${index}`;

function rowView(r: SampleRow, index: number, state: { selected: boolean; cursor: boolean }, onPick: () => void): HTMLElement {
  const dRank = r.rankFirst !== null && r.rankLast !== null ? r.rankLast - r.rankFirst : null;
  const dBand = r.bandFirst !== null && r.bandLast !== null ? r.bandLast - r.bandFirst : null;
  const cell = (cls: string, title: string | undefined, ...children: Array<Node | string | number>) => h('span', { class: cls, role: 'gridcell', ...(title ? { title } : {}) }, ...children);
  return h(
    'div',
    {
      class: `vrow${state.selected ? ' selected' : ''}${state.cursor ? ' cursor' : ''}`,
      id: rowId(index),
      role: 'row',
      aria: { rowindex: String(index + 2), selected: String(state.selected) },
      style: { transform: `translateY(${index * ROW_H}px)` },
      onclick: onPick,
      data: { item: r.itemId, index: String(index) },
    },
    cell('c-id', r.itemId, r.itemId),
    cell('c-line num', undefined, r.line ?? '—'),
    cell('c-cond', r.condition, r.condition),
    cell('c-text', r.preview, r.preview),
    cell('c-rounds', undefined, roundChips(r)),
    cell('c-rank num', undefined, r.rankFirst ?? '—'),
    cell('c-rank num', undefined, r.rankLast ?? '—'),
    cell(`c-rank num ${dRank === null || dRank === 0 ? '' : dRank < 0 ? 'good' : 'bad'}`, undefined, dRank === null ? '—' : dRank > 0 ? `+${dRank}` : String(dRank)),
    cell('c-band', undefined, r.rounds.some((x) => x.band !== null) ? sparkline(r.rounds.map((x) => x.band), { width: 70, height: 18, label: `band score per round: ${r.rounds.map((x) => num(x.band, 3)).join(', ')}` }) : '—'),
    cell('c-band-d num', undefined, dBand === null ? '—' : num(dBand, 4)),
  );
}

function selectEl(label: string, options: Array<[string, string]>, current: string, onChange: (v: string) => void): HTMLElement {
  const el = ce<SingleSelect>('vscode-single-select', { ariaLabel: label, label }, ...options.map(([v, text]) => ce('vscode-option', { value: v, selected: v === current }, text)));
  el.addEventListener('change', () => onChange(el.value));
  return h('label', { class: 'pick' }, `${label} `, el);
}

function filterBar(ctx: PageContext): HTMLElement {
  const f = ctx.state.samples.filter;
  const set = (k: keyof typeof f, v: unknown) => {
    const next = { ...f } as Record<string, unknown>;
    if (v === '' || v === undefined || v === false) delete next[k];
    else next[k] = v;
    ctx.state.samples.filter = next;
    ctx.state.scroll.samplesTable = 0;
    ctx.save();
    ctx.refresh();
  };
  const text = ce<HTMLElement & { value: string }>('vscode-textfield', { placeholder: 'search id, text or answers', value: f.text ?? '', ariaLabel: 'search' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  text.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => set('text', text.value.trim()), 300);
  });
  const errors = ce<HTMLElement & { checked: boolean }>('vscode-checkbox', { checked: !!f.errorsOnly, label: 'errors only' });
  errors.addEventListener('change', () => set('errorsOnly', errors.checked));
  return h(
    'div',
    { class: 'toolbar' },
    text,
    selectEl('condition', [['', 'all'], ...ctx.overview.conditions.map((c) => [c.name, c.name] as [string, string])], f.condition ?? '', (v) => set('condition', v)),
    selectEl('gold rank', [['', 'any change'], ['improved', 'improved'], ['worsened', 'worsened'], ['unchanged', 'unchanged']], f.rankChange ?? '', (v) => set('rankChange', v)),
    selectEl('first → last', [['', 'any'], ['wrong-to-right', 'wrong → right'], ['right-to-wrong', 'right → wrong'], ['stayed-right', 'stayed right'], ['stayed-wrong', 'stayed wrong']], f.flip ?? '', (v) => set('flip', v)),
    errors,
  );
}

export const renderSamples: PageRenderer = async (root, ctx) => {
  const load = pageLoader(ctx);
  const status = h('span', { class: 'muted', role: 'status' }, 'loading records…');
  root.append(filterBar(ctx), h('div', { class: 'toolbar' }, status));
  let first: SamplesResult;
  try {
    first = await load(0);
  } catch (err) {
    root.append(emptyState(err instanceof RequestError ? err.message : String(err)));
    return;
  }
  status.textContent = `${int(first.total)} rows (item × condition)${first.probe ? `; band: ${first.probe}` : ''}`;
  if (first.total === 0) {
    root.append(emptyState(Object.keys(ctx.state.samples.filter).length ? 'no row matches these filters.' : 'this run has no records yet.'));
    return;
  }
  const g = sampleGrid(ctx, load, first.total);
  root.append(h('div', { class: 'vtable' }, g.viewport), g.detail);
  g.viewport.addEventListener('keydown', (ev) => onGridKey(g, ev));
  let raf = 0;
  g.viewport.addEventListener('scroll', () => {
    ctx.state.scroll.samplesTable = g.viewport.scrollTop;
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(() => {
      ctx.save();
      void drawRows(g);
    });
  });
  g.viewport.scrollTop = ctx.state.scroll.samplesTable ?? 0;
  await drawRows(g);
  if (ctx.state.selection.itemId) void showDetail(g, ctx.state.selection.itemId);
  else g.detail.append(h('p', { class: 'muted' }, 'Click a row (or move to it with the arrow keys and press Enter) to see the item’s conversation across rounds.'));
};

type PageLoader = (page: number) => Promise<SamplesResult>;

/** Asks for a page of rows once (the filter and sort are the view's); a failed page is asked again next time. */
function pageLoader(ctx: PageContext): PageLoader {
  const pages = new Map<number, Promise<SamplesResult>>();
  const params = (page: number) => ({ offset: page * PAGE, limit: PAGE, filter: ctx.state.samples.filter, sort: ctx.state.samples.sort });
  return (page) => {
    let p = pages.get(page);
    if (!p) {
      p = ctx.bridge.request('samples', params(page));
      pages.set(page, p);
      p.catch(() => pages.delete(page));
    }
    return p;
  };
}

/** The virtualised table and the detail below it: its elements, and the cursor and drawn range that change. */
interface SampleGrid {
  ctx: PageContext;
  load: PageLoader;
  total: number;
  viewport: HTMLElement;
  spacer: HTMLElement;
  detail: HTMLElement;
  cursor: number;
  /** the range (and selection) last drawn: a draw of the same is skipped, one overtaken by a scroll is dropped */
  drawn: string;
}

function sampleGrid(ctx: PageContext, load: PageLoader, total: number): SampleGrid {
  const spacer = h('div', { class: 'vspacer', role: 'rowgroup', style: { height: `${total * ROW_H}px` } });
  // a short result gets a short table; a long one the CSS height (min(46vh, 480px))
  // the grid is the scroll container and one tab stop: the header row sticks to its top, the arrow keys move the
  // cursor row (aria-activedescendant) and scroll it into view, Enter opens it
  const viewport = h(
    'div',
    {
      class: 'vlist',
      role: 'grid',
      tabindex: 0,
      aria: { rowcount: String(total + 1), colcount: String(COLUMNS.length), label: `samples: ${int(total)} rows; arrow keys move, Enter opens the item` },
      ...(total * ROW_H < 300 ? { style: { height: `${HEAD_H + total * ROW_H + 2}px` } } : {}),
    },
    headerRow(ctx),
    spacer,
  );
  const detail = h('div', { class: 'detail', role: 'region', aria: { label: 'item detail' } });
  const cursor = Math.min(total - 1, Math.max(0, Math.floor((ctx.state.scroll.samplesTable ?? 0) / ROW_H)));
  return { ctx, load, total, viewport, spacer, detail, cursor, drawn: '' };
}

/** The column headers; a sortable one is a button inside its header cell: reachable by Tab, Enter or Space sorts. */
function headerRow(ctx: PageContext): HTMLElement {
  const sort = ctx.state.samples.sort;
  return h(
    'div',
    { class: 'vhead', role: 'row', aria: { rowindex: '1' } },
    ...COLUMNS.map((c) => {
      const active = c.sort === sort.key;
      const el = h(
        'span',
        { class: `${c.cls}${c.sort ? ' sortable' : ''}${active ? ' active' : ''}`, title: c.title ?? (c.sort ? 'sort' : ''), role: 'columnheader', aria: active ? { sort: sort.dir === 'asc' ? 'ascending' : 'descending' } : {} },
        c.label,
        active ? h('span', { aria: { hidden: 'true' } }, sort.dir === 'asc' ? ' ▲' : ' ▼') : '',
      );
      if (c.sort) {
        const key = c.sort;
        const toggle = () => {
          ctx.state.samples.sort = { key, dir: active && sort.dir === 'asc' ? 'desc' : 'asc' };
          ctx.save();
          ctx.refresh();
        };
        el.tabIndex = 0;
        el.setAttribute('aria-label', `${c.label}: sort ${active && sort.dir === 'asc' ? 'descending' : 'ascending'}`);
        el.addEventListener('click', toggle);
        el.addEventListener('keydown', (ev) => {
          if (ev.key !== 'Enter' && ev.key !== ' ') return;
          ev.preventDefault();
          toggle();
        });
      }
      return el;
    }),
  );
}

/** Draws the rows in view (and a margin), asking for the pages they are on. */
async function drawRows(g: SampleGrid): Promise<void> {
  const top = g.viewport.scrollTop;
  const from = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const to = Math.min(g.total, Math.ceil((top + g.viewport.clientHeight) / ROW_H) + OVERSCAN);
  const key = `${from}:${to}:${g.ctx.state.selection.itemId ?? ''}`;
  if (key === g.drawn) return;
  g.drawn = key;
  const needed = new Set<number>();
  for (let i = from; i < to; i++) needed.add(Math.floor(i / PAGE));
  const pageList = [...needed];
  const settled = await Promise.allSettled(pageList.map((p) => g.load(p)));
  if (g.drawn !== key) return; // scrolled on meanwhile
  clear(g.spacer);
  settled.forEach((s, k) => {
    const p = pageList[k]!;
    if (s.status === 'fulfilled') {
      for (let i = Math.max(from, p * PAGE); i < Math.min(to, (p + 1) * PAGE); i++) {
        const r = s.value.rows[i % PAGE];
        if (r) g.spacer.append(rowView(r, i, { selected: r.itemId === g.ctx.state.selection.itemId, cursor: i === g.cursor }, () => pick(g, r.itemId, i, false)));
      }
    } else {
      // say why these rows are missing (the static report holds the first page only) instead of leaving a gap
      const msg = s.reason instanceof Error ? s.reason.message : String(s.reason);
      g.spacer.append(h('div', { class: 'vrow notice', role: 'row', id: rowId(Math.max(from, p * PAGE)), style: { transform: `translateY(${Math.max(from, p * PAGE) * ROW_H}px)` } }, h('span', { class: 'muted', role: 'gridcell' }, `rows ${int(p * PAGE + 1)}–${int(Math.min(g.total, (p + 1) * PAGE))}: ${msg}`)));
    }
  });
  if (document.getElementById(rowId(g.cursor))) g.viewport.setAttribute('aria-activedescendant', rowId(g.cursor));
  else g.viewport.removeAttribute('aria-activedescendant');
}

async function showDetail(g: SampleGrid, itemId: string, reveal = false): Promise<void> {
  const { detail, ctx } = g;
  clear(detail);
  detail.append(h('p', { class: 'muted' }, `loading ${itemId}…`));
  try {
    const d = await ctx.bridge.request('item', { itemId });
    clear(detail);
    renderItem(detail, d, ctx.bridge);
    // Enter in the table: the item's line is shown in the dataset file, the focus stays in the table
    if (reveal) revealInDataset(ctx.bridge, d, true);
  } catch (err) {
    clear(detail);
    detail.append(emptyState(err instanceof Error ? err.message : String(err)));
  }
}

function pick(g: SampleGrid, itemId: string, index: number, reveal: boolean): void {
  g.cursor = index;
  g.ctx.state.selection.itemId = itemId;
  g.ctx.save();
  g.drawn = '';
  void drawRows(g);
  void showDetail(g, itemId, reveal);
}

function moveCursor(g: SampleGrid, to: number): void {
  const { viewport } = g;
  g.cursor = Math.max(0, Math.min(g.total - 1, to));
  // keep the cursor row inside the viewport, then draw (a scroll event would draw too, but not when nothing moves)
  const top = g.cursor * ROW_H;
  // rows sit below the sticky header: row i spans HEAD_H + i·ROW_H … + ROW_H in scroll coordinates
  if (top < viewport.scrollTop) viewport.scrollTop = top;
  else if (HEAD_H + top + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = HEAD_H + top + ROW_H - viewport.clientHeight;
  g.drawn = '';
  void drawRows(g);
}

/** The arrow keys, Page Up/Down, Home and End move the cursor row; Enter or Space opens it. */
function onGridKey(g: SampleGrid, ev: KeyboardEvent): void {
  const { viewport, cursor } = g;
  if (ev.target !== viewport) return; // the sortable headers handle their own keys
  const pageRows = Math.max(1, Math.floor((viewport.clientHeight - HEAD_H) / ROW_H) - 1);
  const moves: Record<string, number> = { ArrowDown: cursor + 1, ArrowUp: cursor - 1, PageDown: cursor + pageRows, PageUp: cursor - pageRows, Home: 0, End: g.total - 1 };
  if (ev.key in moves) {
    ev.preventDefault();
    moveCursor(g, moves[ev.key]!);
  } else if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    const itemId = document.getElementById(rowId(cursor))?.dataset.item;
    if (itemId) pick(g, itemId, cursor, true);
  }
}

/** Shows one item (the host asked for it, e.g. from a CodeLens): select it and open its detail. */
export function selectItem(ctx: PageContext, itemId: string): void {
  ctx.state.selection.itemId = itemId;
  ctx.state.samples.filter = { text: itemId };
  ctx.state.scroll.samplesTable = 0;
  ctx.save();
  ctx.navigate('samples');
}
