// The viewer app: connects to its host, restores the view state, draws the page shell and the current page.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { OverviewResult, ViewerNotification } from '../src/core/viewer/protocol';
import { connect, type Bridge } from './bridge';
import { applyThemeDefaults, destroyCharts } from './charts';
import type { PageContext, PageRenderer } from './context';
import { ce, clear, emptyState, h } from './dom';
import { int } from './format';
import { renderCompare } from './pages/compare';
import { renderCausal } from './pages/causal';
import { renderInstructions } from './pages/instructions';
import { renderOverview } from './pages/overview';
import { renderProbes } from './pages/probes';
import { renderRanks } from './pages/ranks';
import { renderSamples, selectItem } from './pages/samples';
import { PAGES, restoreState, type Page, type ViewState } from './state';

const RENDERERS: Record<Page, PageRenderer> = {
  overview: renderOverview,
  ranks: renderRanks,
  probes: renderProbes,
  instructions: renderInstructions,
  causal: renderCausal,
  samples: renderSamples,
  compare: renderCompare,
};

const TITLES: Record<Page, string> = { overview: 'Overview', ranks: 'Ranks', probes: 'Probes', instructions: 'Instructions', causal: 'Causal', samples: 'Samples', compare: 'Compare' };

function header(o: OverviewResult, bridge: Bridge): HTMLElement {
  const r = o.run;
  const caps = Object.entries(r.backend.capabilities)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .join(', ');
  // a labelled region, not a <header>: the page's main landmark holds it, and a banner must be top-level
  return h(
    'div',
    { class: 'run-head', role: 'region', aria: { label: 'run' } },
    h('h1', null, r.experiment.name, h('span', { class: `badge status-${r.status}` }, r.status)),
    h(
      'p',
      { class: 'facts' },
      `${r.backend.kind}: ${r.backend.model} · ${r.experiment.task}${r.experiment.preset ? ` · preset ${r.experiment.preset}` : ''} · ${int(o.totals.items)} items · ${int(o.totals.records)} records · dataset ${r.dataset.path} (${r.dataset.format}) · run ${r.name} · ${r.createdAt}`,
    ),
    h('p', { class: 'facts muted', title: r.backend.notes.join('\n') }, `capabilities: ${caps || 'none'} · tool ${r.toolVersion}`),
    bridge.kind === 'static' ? h('p', { class: 'facts muted' }, 'static report: the first page of each view is embedded; open the run with `sclab view` for all samples and items.') : null,
    bridge.kind === 'vscode' ? hostActions(bridge) : null,
  );
}

/** Actions only an editor host can carry out (the browser hosts have no file system to write to). */
function hostActions(bridge: Bridge): HTMLElement {
  const button = (label: string, title: string, run: () => void) => {
    const b = ce('vscode-button', { secondary: true, title }, label);
    b.addEventListener('click', run);
    return b;
  };
  return h(
    'div',
    { class: 'toolbar host-actions' },
    button('Open Run…', 'open another run folder', () => bridge.command({ command: 'openRun', args: {} })),
    ...(['csv', 'jsonl', 'html'] as const).map((format) => button(`Export ${format.toUpperCase()}`, `export this run as ${format}`, () => bridge.command({ command: 'exportRun', args: { format } }))),
  );
}

/** Left/Right (and Home/End) move between tabs and show the page: the tabs pattern with automatic activation. */
function onTabKey(ev: KeyboardEvent, page: Page, go: (p: Page) => void): void {
  const i = PAGES.indexOf(page);
  const next = ev.key === 'ArrowRight' ? (i + 1) % PAGES.length : ev.key === 'ArrowLeft' ? (i - 1 + PAGES.length) % PAGES.length : ev.key === 'Home' ? 0 : ev.key === 'End' ? PAGES.length - 1 : -1;
  if (next < 0) return;
  ev.preventDefault();
  go(PAGES[next]!);
}

/** Which control had the focus before a page is drawn again (a filter changed): the tabs, or a labelled control. */
function focusedControl(nav: HTMLElement, content: HTMLElement): string | undefined {
  const active = document.activeElement;
  if (!active) return undefined;
  if (nav.contains(active)) return 'tab';
  if (!content.contains(active)) return undefined;
  const labelled = active.closest('[aria-label]');
  return labelled ? `${labelled.tagName.toLowerCase()}[aria-label="${CSS.escape(labelled.getAttribute('aria-label') ?? '')}"]` : undefined;
}

/** Gives the focus back to the same control in the redrawn page, so a keyboard user keeps their place. */
function refocus(content: HTMLElement, selector: string): void {
  content.querySelector<HTMLElement>(selector)?.focus();
}

async function start(): Promise<void> {
  const app = document.getElementById('app')!;
  const bridge = connect();
  const state: ViewState = restoreState(bridge.getState());
  applyThemeDefaults();
  let overview: OverviewResult;
  try {
    overview = await bridge.request('overview', {});
  } catch (err) {
    clear(app);
    app.append(emptyState(`cannot open this run: ${err instanceof Error ? err.message : String(err)}`));
    bridge.command({ command: 'ready', args: {} });
    return;
  }
  const view = new RunView(bridge, state, overview);
  view.followScroll();
  bridge.onNotification((n) => view.onNotification(n));
  clear(app);
  app.append(view.head, view.notes, view.nav, view.content);
  await view.show();
  bridge.command({ command: 'ready', args: {} });
}

/** The viewer once its run is open: the page shell (header, notes, tabs) and the current page, drawn again on demand. */
class RunView {
  readonly head = h('div');
  readonly notes = h('ul', { class: 'notes', aria: { label: 'notes on this run' } });
  readonly nav = h('div', { class: 'tabs', role: 'tablist', aria: { label: 'result pages' } });
  readonly content = h('div', { class: 'page', role: 'tabpanel', id: 'page', tabindex: -1 });
  readonly ctx: PageContext;
  /** the latest draw: an older one still running when a newer one starts leaves the page to it */
  private renderSeq = 0;

  constructor(
    readonly bridge: Bridge,
    readonly state: ViewState,
    private overview: OverviewResult,
  ) {
    const current = () => this.overview;
    this.ctx = {
      bridge,
      state,
      get overview() {
        return current();
      },
      save: () => bridge.setState(state),
      navigate: (page) => {
        state.page = page;
        this.ctx.save();
        void this.show();
      },
      openItem: (itemId) => selectItem(this.ctx, itemId),
      refresh: () => void this.show(),
    };
    this.nav.addEventListener('keydown', (ev) => onTabKey(ev, state.page, (p) => this.ctx.navigate(p)));
  }

  /** Draws the shell and the current page, keeping the focus where it was. */
  async show(): Promise<void> {
    const { state, content } = this;
    const seq = ++this.renderSeq;
    const focus = focusedControl(this.nav, content);
    this.drawShell();
    if (focus === 'tab') document.getElementById(`tab-${state.page}`)?.focus();
    destroyCharts();
    clear(content);
    const page = state.page;
    const box = h('div');
    content.append(box);
    try {
      await RENDERERS[page](box, this.ctx);
    } catch (err) {
      if (seq !== this.renderSeq) return;
      box.append(emptyState(`${TITLES[page]}: ${err instanceof Error ? err.message : String(err)}`));
    }
    if (seq !== this.renderSeq) return;
    if (focus && focus !== 'tab') refocus(content, focus);
    window.scrollTo(0, state.scroll[page] ?? 0);
    document.body.dataset.ready = page;
  }

  private drawShell(): void {
    const { overview, state, nav } = this;
    clear(this.head);
    this.head.append(header(overview, this.bridge));
    clear(this.notes);
    for (const n of overview.notes) this.notes.append(h('li', null, n));
    clear(nav);
    for (const p of PAGES) {
      const avail = p === 'overview' || p === 'samples' || overview.available[p as keyof OverviewResult['available']];
      const current = p === state.page;
      // roving tabindex: Tab reaches the current tab only, the arrow keys move between tabs
      const tab = h(
        'button',
        { class: `tab${current ? ' active' : ''}${avail ? '' : ' dim'}`, id: `tab-${p}`, role: 'tab', tabindex: current ? 0 : -1, aria: { selected: String(current), controls: 'page' }, title: avail ? '' : 'nothing to show in this run', onclick: () => this.ctx.navigate(p) },
        TITLES[p],
      );
      nav.append(tab);
    }
    this.content.setAttribute('aria-labelledby', `tab-${state.page}`);
  }

  /** Keeps each page's scroll position in the saved state. */
  followScroll(): void {
    let scrollRaf = 0;
    window.addEventListener('scroll', () => {
      cancelAnimationFrame(scrollRaf);
      scrollRaf = requestAnimationFrame(() => {
        this.state.scroll[this.state.page] = window.scrollY;
        this.ctx.save();
      });
    });
  }

  onNotification(n: ViewerNotification): void {
    if (n.event === 'openItem') this.ctx.openItem(n.data.itemId);
    else if (n.event === 'showPage') this.ctx.navigate(n.data.page);
    else if (n.event === 'runChanged') void this.reloadOverview().then(() => this.show(), () => undefined);
    else if (n.event === 'runProgress') {
      const s = document.querySelector('.run-head .badge');
      if (s) s.textContent = `${n.data.status} ${int(n.data.recorded)}/${int(n.data.planned)}`;
    }
  }

  private async reloadOverview(): Promise<void> {
    this.overview = await this.bridge.request('overview', {});
  }
}

void start();
