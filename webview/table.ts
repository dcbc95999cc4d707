// Plain data tables: header cells and body cells are text (numbers formatted by the caller).
import { h, type Child } from './dom';

export interface Column<T> {
  label: string;
  title?: string;
  /** right-align numbers */
  num?: boolean;
  cell: (row: T) => Child;
}

function columnHeader<T>(c: Column<T>): HTMLTableCellElement {
  const th = h('th', { class: c.num ? 'num' : '', title: c.title ?? '' }, c.label);
  th.scope = 'col';
  return th;
}

export function table<T>(rows: readonly T[], cols: ReadonlyArray<Column<T>>, caption?: string): HTMLTableElement {
  return h(
    'table',
    { class: 'data' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, ...cols.map((c) => columnHeader(c)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...cols.map((c) => h('td', { class: c.num ? 'num' : '' }, c.cell(r)))))),
  );
}
