// The workbench as a researcher uses it: a run from the command palette, one from the explorer's context menu,
// the run in the side panel, the results panel with its charts painted, hostile dataset text left inert, and the
// CodeLens on the dataset line. Every step saves a screenshot under test-results/e2e/.
import { openWorkbench } from './browser.mjs';
import { workbenchSession } from './workbench.mjs';

const RUN_TIMEOUT = 180_000;

export async function runUiScenario(context, { url, workspace, shots }) {
  const page = await context.newPage();
  const { shot, check, runCommand, answerPick, summary } = workbenchSession(page, { shots });
  // page-level sentinel: hostile text that ran would set it
  const pwned = () => page.evaluate(() => window.__sclabPwned);

  await openWorkbench(page, `${url}/?folder=${encodeURIComponent(workspace)}`);
  // the extension's contributions are known once its activity-bar entry is there
  await page.locator('.activitybar [aria-label^="Self-Correction Lab"]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);

  // run ids named by "Run <id> completed" toasts (identical messages would be merged into one toast)
  const completedRuns = () =>
    page.evaluate(() => [...document.querySelectorAll('.notifications-toasts .notification-toast')].flatMap((t) => /Run (\S+) completed:/.exec(t.textContent ?? '')?.[1] ?? []));
  const waitForNewCompletedRun = async (before) => {
    const end = Date.now() + RUN_TIMEOUT;
    for (;;) {
      const now = await completedRuns();
      const fresh = now.filter((id) => !before.includes(id));
      if (fresh.length > 0) return fresh[0];
      if (Date.now() > end) throw new Error(`no "Run … completed" notification within ${RUN_TIMEOUT / 1000} s`);
      await page.waitForTimeout(500);
    }
  };

  await check('run from the command palette', async () => {
    await runCommand('Self-Correction Lab: Run Experiment…');
    await answerPick('hostile.jsonl');
    await answerPick('auto');
    await answerPick('test-embedded');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await shot('palette-rounds');
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts', { hasText: 'Self-Correction Lab' }).first().waitFor({ timeout: 30_000 });
    await shot('palette-run-progress');
    await waitForNewCompletedRun([]);
    await shot('palette-run-completed');
  });

  await check('the run in the side panel', async () => {
    await page.locator('.activitybar a[aria-label^="Self-Correction Lab"], .activitybar .action-item[aria-label^="Self-Correction Lab"] a, .activitybar [aria-label^="Self-Correction Lab"]').first().click();
    const row = page.locator('.monaco-list-row', { hasText: 'completed' }).first();
    await row.waitFor({ timeout: 30_000 });
    await page.locator('.monaco-list-row', { hasText: 'embedded' }).first().waitFor({ timeout: 5_000 }).catch(() => undefined);
    await shot('runs-view');
  });

  await check('run from the explorer context menu', async () => {
    const before = await completedRuns();
    await page.keyboard.press('Control+Shift+E');
    const explorer = page.locator('.explorer-folders-view');
    await explorer.waitFor();
    const dataRow = explorer.locator('.monaco-list-row[aria-label^="data"]').first();
    await dataRow.waitFor();
    if ((await dataRow.getAttribute('aria-expanded')) !== 'true') await dataRow.click();
    const fileRow = explorer.locator('.monaco-list-row[aria-label^="hostile.jsonl"]').first();
    await fileRow.waitFor();
    await fileRow.click({ button: 'right' });
    const item = page.locator('.context-view .action-item', { hasText: 'Run Experiment on This File' }).first();
    await item.waitFor();
    await page.locator('.context-view .action-item', { hasText: 'Validate Dataset' }).first().waitFor();
    await shot('explorer-context-menu');
    await item.click();
    await waitForNewCompletedRun(before);
    await shot('explorer-run-completed');
  });

  const viewer = page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');

  await check('results panel beside the editor with charts painted', async () => {
    await page.locator('.activitybar [aria-label^="Self-Correction Lab"]').first().click();
    // a click that lands while the tree redraws (runs just finished) is lost: click again until the panel opens
    const canvas = viewer.locator('canvas').first();
    for (let attempt = 1; ; attempt++) {
      await page.locator('.monaco-list-row', { hasText: 'completed' }).first().click();
      try {
        await canvas.waitFor({ timeout: 20_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
    // charts animate in: wait until some canvas has painted pixels
    const painted = await waitForPaint(viewer);
    if (painted.paintedCanvases === 0) throw new Error(`no canvas has painted pixels (${painted.canvases} canvases)`);
    await shot('results-overview');
    console.log(`    ${painted.paintedCanvases}/${painted.canvases} canvases painted`);
  });

  await check('hostile dataset text stays inert in the viewer', async () => {
    const samples = viewer.getByRole('tab', { name: /Samples/i }).or(viewer.getByRole('button', { name: /Samples/i })).or(viewer.getByRole('link', { name: /Samples/i })).first();
    await samples.click({ timeout: 15_000 });
    await viewer.getByText('window.__sclabPwned', { exact: false }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500);
    await shot('samples-hostile-text');
    const dom = await viewer.locator('body').evaluate(() => ({
      pwned: window.__sclabPwned ?? null,
      imgX: document.querySelectorAll('img[src="x"], img[onerror]').length,
      jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      inlineScripts: [...document.querySelectorAll('script')].filter((s) => (s.textContent ?? '').includes('__sclabPwned')).length,
      bold: [...document.querySelectorAll('b')].filter((b) => b.textContent === 'The manager').length,
    }));
    if (dom.pwned !== null || (await pwned()) !== undefined) throw new Error('hostile text ran');
    if (dom.imgX || dom.jsLinks || dom.inlineScripts || dom.bold) throw new Error(`hostile markup became DOM: ${JSON.stringify(dom)}`);
    // open the item with the <img onerror> text: its conversation is text too
    await viewer.getByText('q2-img').first().click();
    await viewer.getByText('onerror', { exact: false }).first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(500);
    await shot('item-hostile-text');
    const after = await viewer.locator('body').evaluate(() => ({ pwned: window.__sclabPwned ?? null, imgX: document.querySelectorAll('img[src="x"], img[onerror]').length }));
    if (after.pwned !== null || after.imgX) throw new Error(`hostile markup ran in the item view: ${JSON.stringify(after)}`);
  });

  await check('CodeLens on the dataset line opens the item', async () => {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.fill('hostile.jsonl');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hostile.jsonl' }).first().waitFor();
    await page.keyboard.press('Enter');
    const lens = page.locator('.codelens-decoration a', { hasText: 'self-correct' });
    await lens.first().waitFor({ timeout: 30_000 });
    await shot('dataset-codelens');
    await lens.nth(3).click();
    await viewer.getByText('q4-plain').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(500);
    await shot('codelens-opened-item');
  });

  await check('editor title run button on an experiment file; errors reported with actions', async () => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('probed.sclab.yaml');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'probed.sclab.yaml' }).first().waitFor();
    await page.keyboard.press('Enter');
    const button = page.locator('.editor-actions [aria-label^="Run Experiment on This File"]').first();
    await button.waitFor({ timeout: 20_000 });
    await button.click();
    // this workspace has no statements.probe.json: the run stops before it starts, and says so with its actions
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'probe' }).first();
    await toast.waitFor({ timeout: 60_000 });
    await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Open Log' }).first().waitFor({ timeout: 5_000 });
    await shot('experiment-file-error');
  });

  await check('results panels restored after a window reload', async () => {
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // a webview is loaded when its tab is shown: bring the restored results tab to the front
    const tab = page.locator('.tabs-container .tab', { hasText: 'Results:' }).first();
    await tab.waitFor({ timeout: 60_000 });
    await tab.click();
    const restored = page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
    await restored.getByText('hostile-self-correct').first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1000);
    await shot('reloaded-results');
  });

  await page.close();
  return summary();
}

async function waitForPaint(viewer, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  let last = { canvases: 0, paintedCanvases: 0 };
  while (Date.now() < end) {
    last = await viewer.locator('body').evaluate(() => {
      const canvases = [...document.querySelectorAll('canvas')];
      let paintedCanvases = 0;
      for (const c of canvases) {
        if (!c.width || !c.height) continue;
        const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; data && i < data.length; i += 4) if (data[i] !== 0) painted++;
        if (painted > 50) paintedCanvases++;
      }
      return { canvases: canvases.length, paintedCanvases };
    });
    if (last.paintedCanvases > 0) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  return last;
}
