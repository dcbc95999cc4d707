// The only way the app builds DOM: elements with text children. Dataset text and model output are untrusted, so no
// code in webview/ ever assigns HTML (innerHTML, outerHTML, insertAdjacentHTML, document.write); a test checks that.

export type Child = Node | string | number | null | undefined | false;

export interface Attrs {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  /** data-* and aria-* attributes, set with setAttribute (values are strings, never markup) */
  data?: Record<string, string>;
  aria?: Record<string, string>;
  style?: Partial<Record<'width' | 'height' | 'top' | 'left' | 'transform' | 'background' | 'color', string>>;
  onclick?: (ev: MouseEvent) => void;
  tabindex?: number;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    if (attrs.class) el.className = attrs.class;
    if (attrs.id) el.id = attrs.id;
    if (attrs.title !== undefined) el.title = attrs.title;
    if (attrs.role) el.setAttribute('role', attrs.role);
    for (const [k, v] of Object.entries(attrs.data ?? {})) el.dataset[k] = v;
    for (const [k, v] of Object.entries(attrs.aria ?? {})) el.setAttribute(`aria-${k}`, v);
    for (const [k, v] of Object.entries(attrs.style ?? {})) if (v !== undefined) el.style.setProperty(k, v);
    if (attrs.onclick) el.addEventListener('click', attrs.onclick as EventListener);
    if (attrs.tabindex !== undefined) el.tabIndex = attrs.tabindex;
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A custom element (vscode-elements) with its properties set as properties, not as markup. */
/** The toolkit's `vscode-single-select` custom element: what the pages read from it. */
export type SingleSelect = HTMLElement & { value: string };

export function ce<T extends HTMLElement = HTMLElement>(tag: string, props: Record<string, unknown> = {}, ...children: Child[]): T {
  const el = document.createElement(tag) as T;
  // custom elements take their settings as properties; Reflect.set writes any property name without a cast
  for (const [k, v] of Object.entries(props)) Reflect.set(el, k, v);
  append(el, ...children);
  return el;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}

/** An honest "nothing here" block: what is missing and what to do about it. */
export function emptyState(reason: string): HTMLElement {
  return h('div', { class: 'empty', role: 'note' }, reason);
}
