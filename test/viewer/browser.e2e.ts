// The viewer in a real browser: `sclab view` (a child process) and the static HTML file, driven by Playwright with
// Debian's Chromium. Checks that charts are painted on every page, that hostile dataset text and model output stay
// inert text, that the CSP reports nothing, and that the view state survives a reload. Saves screenshots.
// Run: npm run test:viewer-browser (bundles this file and runs it with node). Needs /usr/bin/chromium (or CHROMIUM).
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM_ARGS, REPO, axeViolations, loadChromium, startView, waitForPaintedChart, type AxeViolation } from './browserSupport';
import { HOSTILE, writeSyntheticRun } from './syntheticRun';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS ?? path.join(os.tmpdir(), 'sclab-viewer-shots');

let failures = 0;
function check(ok: boolean, what: string): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failures++;
}

async function inert(page: Page, where: string): Promise<void> {
  const r = await page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
    scripts: document.querySelectorAll('script:not([type="application/json"])').length,
    imgs: document.querySelectorAll('img').length,
    jsLinks: Array.from(document.querySelectorAll('a')).filter((a) => a.href.startsWith('javascript:')).length,
    text: document.body.innerText,
  }));
  check(r.pwned === null, `${where}: no hostile code ran`);
  check(r.scripts === 1, `${where}: only the app's own script element (${r.scripts})`);
  check(r.imgs === 0 && r.jsLinks === 0, `${where}: no <img> or javascript: link made from data`);
  check(HOSTILE.every((s) => r.text.includes(s)), `${where}: the hostile strings are shown as text`);
}

async function tourPages(page: Page, label: string, expectCharts: string[]): Promise<void> {
  for (const tab of ['Overview', 'Ranks', 'Probes', 'Instructions', 'Compare']) {
    await page.getByRole('tab', { name: tab }).click();
    await page.waitForFunction((p) => document.body.dataset.ready === p, tab.toLowerCase());
    if (expectCharts.includes(tab)) {
      await waitForPaintedChart(page);
      check(true, `${label}: ${tab} chart painted`);
    } else {
      const empty = await page.locator('.empty').count();
      check(empty > 0, `${label}: ${tab} says honestly that it has nothing to show`);
    }
    await page.screenshot({ path: path.join(SHOTS, `${label}-${tab.toLowerCase()}.png`), fullPage: true });
  }
}

/** axe-core on every page of the viewer (the samples page with an item open); prints the counts by impact. */
async function audit(page: Page, label: string): Promise<AxeViolation[]> {
  const all: AxeViolation[] = [];
  for (const tab of ['Overview', 'Ranks', 'Probes', 'Instructions', 'Samples', 'Compare']) {
    await page.getByRole('tab', { name: tab }).click();
    await page.waitForFunction((p) => document.body.dataset.ready === p, tab.toLowerCase());
    if (tab === 'Samples') {
      await page.locator('.vrow').first().click();
      await page.waitForSelector('.detail .round');
    }
    const found = await axeViolations(page);
    for (const v of found) process.stdout.write(`     axe ${label}/${tab}: ${v.impact} ${v.id} ×${v.nodes}: ${v.help} (${v.targets.join(' | ')})\n`);
    all.push(...found);
  }
  const by = (impact: string) => all.filter((v) => v.impact === impact).reduce((n, v) => n + v.nodes, 0);
  process.stdout.write(`axe ${label}: critical ${by('critical')}, serious ${by('serious')}, moderate ${by('moderate')}, minor ${by('minor')} (nodes, over 6 pages)\n`);
  check(by('critical') + by('serious') === 0, `${label}: axe-core finds no critical or serious violation on any page`);
  return all;
}

/** The viewer by keyboard alone: tabs, the samples table, chart data, focus that shows and survives a redraw. */
async function keyboard(page: Page): Promise<void> {
  const ready = (p: string) => page.waitForFunction((x) => document.body.dataset.ready === x, p);
  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
  await page.getByRole('tab', { name: 'Overview' }).click();
  await ready('overview');
  check((await page.locator('[role=tab][tabindex="0"]').count()) === 1, 'keyboard: one tab stop for the tab list (roving tabindex)');
  await page.locator('#tab-overview').focus();
  await page.keyboard.press('ArrowRight');
  await ready('ranks');
  check((await focusedId()) === 'tab-ranks', 'keyboard: → shows the next page and keeps the focus on its tab');
  await page.keyboard.press('End');
  await ready('compare');
  await page.keyboard.press('Home');
  await ready('overview');
  check((await focusedId()) === 'tab-overview', 'keyboard: End and Home reach the last and first tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  check(outline !== 'none', `keyboard: the focused tab shows a focus outline (${outline})`);
  const labelled = await page.evaluate(() => document.querySelector('[role=tabpanel]')?.getAttribute('aria-labelledby'));
  check(labelled === 'tab-overview', 'the page is a tab panel labelled by its tab');

  // every chart has its numbers as a table
  await waitForPaintedChart(page);
  const charts = await page.locator('.chart').count();
  const tables = await page.locator('.chart-data table').count();
  check(charts > 0 && tables === charts, `every chart has a data table (${tables} tables, ${charts} charts)`);
  await page.locator('.chart-data summary').first().focus();
  await page.keyboard.press('Enter');
  const cells = await page.locator('.chart-data[open] tbody td').allTextContents();
  check(cells.some((c) => /\d/.test(c)), `the Data disclosure opens by keyboard and holds numbers (${cells.slice(0, 4).join(', ')})`);

  // the samples table: one tab stop, arrows move the cursor row, Enter opens the item
  await page.locator('#tab-overview').focus();
  const tabOrder = await page.locator('[role=tab]').evaluateAll((tabs) => tabs.map((t) => t.id));
  for (let i = 0; i < tabOrder.indexOf('tab-samples'); i++) await page.keyboard.press('ArrowRight');
  await ready('samples');
  await page.waitForSelector('.vrow');
  await page.locator('.vlist').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('.vlist')?.getAttribute('aria-activedescendant') === 'sample-row-2');
  const want = await page.locator('#sample-row-2').getAttribute('data-item');
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.querySelector('.detail h2')?.textContent === id, want);
  check(true, `keyboard: ↓↓ Enter in the samples table opens the third row's item (${want})`);
  check((await page.evaluate(() => document.activeElement?.className)) === 'vlist', 'keyboard: the focus stays in the table after Enter');
  await page.keyboard.press('PageDown');
  const after = await page.evaluate(() => Number(document.querySelector('.vlist')?.getAttribute('aria-activedescendant')?.replace('sample-row-', '')));
  check(after > 2, `keyboard: PageDown moves the cursor a screen down (row ${after})`);
  await page.screenshot({ path: path.join(SHOTS, 'keyboard-samples.png') });

  // a filter typed by keyboard keeps the focus when the table is drawn again
  await page.locator('vscode-textfield[aria-label="search"]').focus();
  await page.keyboard.type('bbq-0001');
  await page.waitForFunction(() => /\b\d+ rows/.test(document.querySelector('[role=status]')?.textContent ?? '') && document.querySelectorAll('.vrow').length > 0 && Array.from(document.querySelectorAll('.vrow')).every((r) => (r.textContent ?? '').includes('bbq-0001')));
  check((await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'search', 'keyboard: the search field keeps the focus after the table is filtered');
  await page.locator('vscode-textfield[aria-label="search"]').evaluate((el) => {
    (el as HTMLElement & { value: string }).value = '';
    el.dispatchEvent(new Event('input'));
  });
  await page.waitForFunction(() => document.querySelectorAll('.vrow').length > 20);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    process.stdout.write(`skipped: ${CHROMIUM} is not installed (apt-get install -y chromium) and CI is not set\n`);
    return;
  }
  await fs.mkdir(SHOTS, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sclab-viewer-e2e-'));
  const runA = (await writeSyntheticRun(path.join(tmp, 'run-a'), { items: 300, rounds: 4, layers: 32, hostile: HOSTILE, variants: 3 })).dir;
  const runB = (await writeSyntheticRun(path.join(tmp, 'run-b'), { items: 300, rounds: 4, layers: 0, seed: 11 })).dir;
  const ctx = await loadChromium().launchPersistentContext(path.join(tmp, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 } });
  const { url, child } = await startView([runA, '--compare', runB, '--resamples', '200']);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));

    await page.goto(url);
    await waitForPaintedChart(page);
    check(true, 'sclab view: overview chart painted');
    await audit(page, 'light');
    await keyboard(page);
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.waitForFunction(() => document.body.dataset.ready === 'overview');
    await tourPages(page, 'view', ['Overview', 'Ranks', 'Probes', 'Instructions', 'Compare']);

    // samples: hostile text in the table and in one item's conversation
    await page.getByRole('tab', { name: 'Samples' }).click();
    await page.waitForSelector('.vrow');
    await page.locator('.vrow', { hasText: 'bbq-00001' }).first().click();
    await page.waitForSelector('.detail .round');
    await page.screenshot({ path: path.join(SHOTS, 'view-samples.png'), fullPage: true });
    const rows = await page.locator('.vrow').count();
    check(rows > 0 && rows < 120, `samples: only the visible rows are in the DOM (${rows} of 1500)`);
    await page.locator('.vrow', { hasText: 'bbq-00002' }).first().click();
    await page.waitForFunction(() => document.querySelector('.detail h2')?.textContent === 'bbq-00002');
    await page.locator('.vrow', { hasText: 'bbq-00000' }).first().click();
    await page.waitForFunction(() => document.querySelector('.detail h2')?.textContent === 'bbq-00000');
    // all three hostile strings have been on screen as text; the last one shown must be there now
    const shown = await page.evaluate(() => document.body.innerText);
    check(shown.includes(HOSTILE[0]!), 'item detail shows the hostile context as text');
    const r = await page.evaluate(() => ({ pwned: (window as unknown as { __pwned?: number }).__pwned ?? null, imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script:not([type="application/json"])').length }));
    check(r.pwned === null && r.imgs === 0 && r.scripts === 1, 'samples and item detail: hostile text inert');

    // scroll deep into the virtualised table: later pages load on demand
    await page.locator('.vlist').evaluate((el) => (el.scrollTop = 1250 * 30));
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.vrow')).some((r) => /bbq-002[45]\d/.test(r.textContent ?? '')));
    check(true, 'samples: scrolling loads later pages');

    // state survives a reload: page, selection, scroll
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'samples');
    await page.waitForSelector('.detail .round');
    const after = await page.evaluate(() => ({ item: document.querySelector('.detail h2')?.textContent, scroll: document.querySelector('.vlist')?.scrollTop ?? 0 }));
    check(after.item === 'bbq-00000' && after.scroll > 1000, `state restored after reload (item ${after.item}, scroll ${after.scroll})`);
    check(consoleErrors.length === 0, `no console errors or CSP violations (${consoleErrors.join(' | ')})`);

    // hostile strings one by one through the text filter: each shown as text, nothing runs
    await page.locator('.vlist').evaluate((el) => (el.scrollTop = 0));
    for (const [i] of HOSTILE.entries()) {
      await page.locator('.vrow', { hasText: `bbq-0000${i}` }).first().click();
      await page.waitForFunction((id) => document.querySelector('.detail h2')?.textContent === id, `bbq-0000${i}`);
      const t = await page.evaluate(() => document.querySelector('.detail')?.textContent ?? '');
      check(t.includes(HOSTILE[i]!), `hostile string ${i} shown verbatim in the item detail`);
    }
    await inert(page, 'after visiting all hostile items').catch(() => undefined);

    // the VS Code panel's bridge (acquireVsCodeApi + postMessage), with a stand-in host that forwards to the server
    const vp = await ctx.newPage();
    await vp.addInitScript(() => {
      const posted: unknown[] = [];
      let saved: unknown;
      (window as unknown as { __posted: unknown[] }).__posted = posted;
      (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
        postMessage(msg: { kind: string }) {
          posted.push(msg);
          if (msg.kind !== 'request') return;
          void fetch('/api/message', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg) })
            .then((r) => r.json())
            .then((res) => window.postMessage(res, '*'));
        },
        getState: () => saved,
        setState: (st: unknown) => (saved = st),
      });
    });
    await vp.goto(url);
    await waitForPaintedChart(vp);
    check(true, 'VS Code bridge: overview chart painted through postMessage');
    // a host message that breaks the contract is dropped, not obeyed
    await vp.evaluate(() => window.postMessage({ kind: 'notification', event: 'exec', data: { code: 'window.__pwned = 9' } }, '*'));
    await vp.evaluate(() => window.postMessage({ kind: 'notification', event: 'openItem', data: { itemId: 'bbq-00002' } }, '*'));
    await vp.waitForFunction(() => document.querySelector('.detail h2')?.textContent === 'bbq-00002');
    check(true, 'VS Code bridge: openItem notification opens the item');
    await vp.getByText('Reveal in dataset').click();
    await vp.getByText('Export CSV').click();
    const posted = await vp.evaluate(() => (window as unknown as { __posted: Array<{ kind: string; command?: string; args?: unknown }> }).__posted.filter((m) => m.kind === 'command'));
    check(posted.some((m) => m.command === 'ready'), 'VS Code bridge: the app says ready');
    check(posted.some((m) => m.command === 'revealItem' && JSON.stringify(m.args) === JSON.stringify({ itemId: 'bbq-00002', file: 'data/bbq.jsonl', line: 3 })), 'VS Code bridge: Reveal in dataset posts revealItem with file and line');
    check(posted.some((m) => m.command === 'exportRun'), 'VS Code bridge: Export posts exportRun');
    await vp.locator('.vlist').focus();
    await vp.keyboard.press('Home');
    await vp.keyboard.press('Enter');
    await vp.waitForFunction(() => (window as unknown as { __posted: Array<{ command?: string; args?: { preserveFocus?: boolean } }> }).__posted.some((m) => m.command === 'revealItem' && m.args?.preserveFocus === true));
    check(true, 'VS Code bridge: Enter in the samples table reveals the item\'s line, keeping the focus in the viewer');
    check((await vp.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null)) === null, 'VS Code bridge: an invalid host message is dropped');
    await vp.screenshot({ path: path.join(SHOTS, 'vscode-bridge-item.png'), fullPage: false });
    await vp.close();

    // a run without ranks or probes: every page says what is missing instead of drawing nothing
    const bare = (await writeSyntheticRun(path.join(tmp, 'run-bare'), { items: 50, rounds: 2, layers: 0, noRanks: true })).dir;
    const bareView = await startView([bare]);
    try {
      const bp = await ctx.newPage();
      await bp.goto(bareView.url);
      await waitForPaintedChart(bp);
      await tourPages(bp, 'bare', ['Overview']);
      const notes = await bp.evaluate(() => document.querySelector('.notes')?.textContent ?? '');
      check(/no probe scores: configure probes/.test(notes), 'bare run: the notes say there are no probe scores and how to get them');
      await bp.close();
    } finally {
      bareView.child.kill('SIGTERM');
    }

    // the same app under a dark system theme (the browser hosts follow prefers-color-scheme)
    const dark = await ctx.newPage();
    await dark.emulateMedia({ colorScheme: 'dark' });
    await dark.goto(url);
    await waitForPaintedChart(dark);
    for (const tab of ['Overview', 'Probes']) {
      await dark.getByRole('tab', { name: tab }).click();
      await dark.waitForFunction((p) => document.body.dataset.ready === p, tab.toLowerCase());
      await waitForPaintedChart(dark);
      await dark.screenshot({ path: path.join(SHOTS, `dark-${tab.toLowerCase()}.png`), fullPage: true });
    }
    const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg === 'rgb(30, 30, 30)', `dark system theme: dark background (${bg})`);
    await audit(dark, 'dark');
    await dark.emulateMedia({ colorScheme: 'dark', forcedColors: 'active' });
    await dark.getByRole('tab', { name: 'Samples' }).click();
    await dark.waitForFunction(() => document.body.dataset.ready === 'samples');
    await dark.locator('.vlist').focus();
    await dark.keyboard.press('ArrowDown');
    await dark.screenshot({ path: path.join(SHOTS, 'forced-colors-samples.png'), fullPage: true });
    const hcOutline = await dark.evaluate(() => getComputedStyle(document.querySelector('.vrow.cursor')!).outlineStyle);
    check(hcOutline === 'solid', `forced colours (high contrast): the cursor row keeps a visible outline (${hcOutline})`);
    await audit(dark, 'forced-colors');
    await dark.close();

    // the static file
    const file = path.join(tmp, 'viewer.html');
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [path.join(REPO, 'dist/cli.js'), 'view', runA, '--static', file, '--resamples', '200'], { stdio: 'inherit' });
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--static exited with ${code}`))));
    });
    const html = await fs.readFile(file, 'utf8');
    check(!HOSTILE.some((s) => html.includes(s)), 'static file: no hostile string appears unescaped in the HTML');
    const sp = await ctx.newPage();
    const staticErrors: string[] = [];
    sp.on('console', (m) => m.type() === 'error' && staticErrors.push(m.text()));
    sp.on('pageerror', (e) => staticErrors.push(e.message));
    await sp.goto(`file://${file}`);
    await waitForPaintedChart(sp);
    check(true, 'static file: overview chart painted offline');
    await tourPages(sp, 'static', ['Overview', 'Ranks', 'Probes', 'Instructions']);
    await sp.getByRole('tab', { name: 'Samples' }).click();
    await sp.waitForSelector('.vrow');
    await sp.locator('.vrow', { hasText: 'bbq-00001' }).first().click();
    await sp.waitForSelector('.detail .round');
    const st = await sp.evaluate(() => ({ pwned: (window as unknown as { __pwned?: number }).__pwned ?? null, imgs: document.querySelectorAll('img').length, text: document.querySelector('.detail')?.textContent ?? '' }));
    check(st.pwned === null && st.imgs === 0 && st.text.includes(HOSTILE[1]!), 'static file: hostile text inert in the item detail');
    await sp.screenshot({ path: path.join(SHOTS, 'static-samples.png'), fullPage: true });
    await sp.locator('.vlist').evaluate((el) => (el.scrollTop = 600 * 30));
    await sp.waitForSelector('.vrow.notice');
    const notice = await sp.locator('.vrow.notice').first().textContent();
    check(/sclab view/.test(notice ?? ''), `static file: rows beyond the embedded page say how to see them (${notice})`);
    check(staticErrors.length === 0, `static file: no console errors or CSP violations (${staticErrors.join(' | ')})`);
  } finally {
    child.kill('SIGTERM');
    await ctx.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`screenshots: ${SHOTS}\n`);
  if (failures) {
    process.stdout.write(`${failures} check(s) failed\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
