// The paths a run can take besides finishing: cancelled from the status bar and from the Runs view, interrupted by
// a window reload and offered for resume, refused by a server that rejects the key; an experiment file written by
// New Experiment… from the explorer and checked; an untrusted workspace where nothing runs. Screenshots under
// test-results/e2e/ (paths-NN-*.png, untrusted-NN-*.png). The slow and the refusing backends are fake
// OpenAI-compatible servers started by run.mjs (a test double of the remote service, not of our client).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openWorkbench } from './browser.mjs';
import { workbenchSession } from './workbench.mjs';

export async function runPathsScenario(context, { url, workspace, shots }) {
  const page = await context.newPage();
  const s = workbenchSession(page, { shots, prefix: 'paths-' });
  await openWorkbench(page, `${url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.activitybar [aria-label^="Self-Correction Lab"]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);

  const statusItem = page.locator('.statusbar-item', { hasText: /sclab \d+\/\d+/ }).first();
  const runRow = (status) => page.locator('.pane', { hasText: 'Runs' }).locator('.monaco-list-row', { hasText: status });
  const startSlowRun = async () => {
    await s.runCommand('Self-Correction Lab: Run Experiment…');
    await s.answerPick('many.jsonl');
    await s.answerPick('auto');
    await s.answerPick('slow');
    await s.answerInput('2');
    // progress counts records: wait until some are written
    await page.locator('.statusbar-item', { hasText: /sclab [1-9]\d*\/\d+/ }).first().waitFor({ timeout: 60_000 });
  };

  await s.check('cancel a run from the status bar', async () => {
    await startSlowRun();
    await s.shot('status-bar-running');
    await statusItem.click();
    await statusItem.waitFor({ state: 'hidden', timeout: 30_000 });
    await s.openSideView();
    await runRow('cancelled').first().waitFor({ timeout: 30_000 });
    await s.shot('cancelled-from-status-bar');
  });

  await s.check('cancel a run from the Runs view', async () => {
    const before = await runRow('cancelled').count();
    await startSlowRun();
    await s.openSideView();
    const row = runRow('running').first();
    await row.waitFor({ timeout: 30_000 });
    await row.hover();
    await s.shot('runs-view-running');
    await row.locator('.action-label[aria-label^="Cancel Run"]').click();
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('.pane .monaco-list-row')].filter((r) => (r.textContent ?? '').includes('cancelled')).length > n,
      before,
      { timeout: 30_000 },
    );
    await s.shot('cancelled-from-runs-view');
  });

  await s.check('a run interrupted by a window reload is offered for resume, and resumes', async () => {
    await startSlowRun();
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    const offer = s.toast(/stopped/);
    await offer.waitFor({ timeout: 60_000 });
    await s.shot('resume-offer');
    await offer.locator('.monaco-button', { hasText: 'Resume' }).first().click();
    await page.locator('.statusbar-item', { hasText: /sclab \d+\/\d+/ }).first().waitFor({ timeout: 30_000 });
    await s.toast(/Run \S+ completed/).waitFor({ timeout: 180_000 });
    await s.shot('resumed-run-completed');
  });

  await s.check('a server that refuses the key: the error names the backend and offers Set API Key…', async () => {
    await s.runCommand('Self-Correction Lab: Set API Key…');
    await s.answerPick('refusing');
    await s.answerInput('not-the-right-key');
    await s.runCommand('Self-Correction Lab: Run Experiment…');
    await s.answerPick('many.jsonl');
    await s.answerPick('auto');
    await s.answerPick('refusing');
    await s.answerInput('1');
    const error = s.toast(/refused|API key|401/);
    await error.waitFor({ timeout: 60_000 });
    const text = (await error.textContent()) ?? '';
    if (!/refusing|127\.0\.0\.1/.test(text)) throw new Error(`the error does not name the backend: ${text}`);
    await error.locator('.monaco-button', { hasText: 'Set API Key…' }).first().waitFor({ timeout: 5_000 });
    await s.shot('refused-key');
    await error.locator('.monaco-button', { hasText: 'Set API Key…' }).first().click();
    await page.locator('.quick-input-widget', { hasText: 'Set API Key' }).waitFor({ timeout: 10_000 });
    await s.shot('set-api-key-offered');
    await page.keyboard.press('Escape');
  });

  await s.check('New Experiment… from the explorer; a mistake in the file is reported at its line', async () => {
    await page.keyboard.press('Control+Shift+E');
    const explorer = page.locator('.explorer-folders-view');
    const dataRow = explorer.locator('.monaco-list-row[aria-label^="data"]').first();
    await dataRow.waitFor();
    if ((await dataRow.getAttribute('aria-expanded')) !== 'true') await dataRow.click();
    const fileRow = explorer.locator('.monaco-list-row[aria-label^="many.jsonl"]').first();
    await fileRow.click({ button: 'right' });
    const item = page.locator('.context-view .action-item', { hasText: 'New Experiment…' }).first();
    await item.waitFor();
    await s.shot('explorer-new-experiment');
    await item.click();
    await s.answerPick('default protocol');
    await page.locator('.tabs-container .tab', { hasText: 'many.sclab.yaml' }).first().waitFor({ timeout: 30_000 });
    await s.shot('new-experiment-opened');
    // misspell a key on the line "task: mcq", save, validate: the Problems panel names it with "did you mean"
    const lineNo = readFileSync(path.join(workspace, 'data', 'many.sclab.yaml'), 'utf8').split('\n').indexOf('task: mcq') + 1;
    if (lineNo < 1) throw new Error('the new experiment file has no "task: mcq" line');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await s.answerInput(`:${lineNo}`);
    await page.keyboard.press('Home');
    await page.keyboard.press('Delete');
    await page.keyboard.type('T');
    await page.keyboard.press('Control+S');
    await s.runCommand('Self-Correction Lab: Validate Dataset');
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel', { hasText: 'did you mean "task"' }).first().waitFor({ timeout: 30_000 });
    await s.shot('experiment-diagnostic');
  });

  await page.close();
  return s.summary();
}

/** An untrusted workspace (restricted mode): no run starts, workspace backends are ignored, and both are explained. */
export async function runUntrustedScenario(context, { url, workspace, shots }) {
  const page = await context.newPage();
  const s = workbenchSession(page, { shots, prefix: 'untrusted-' });
  await openWorkbench(page, `${url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.activitybar [aria-label^="Self-Correction Lab"]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);

  await s.check('restricted mode: the workspace backend is ignored, and the Backends view says so', async () => {
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30_000 });
    await s.openSideView();
    const backends = page.locator('.pane', { hasText: 'Backends' });
    await backends.locator('.monaco-list-row', { hasText: 'not trusted' }).first().waitFor({ timeout: 30_000 });
    if ((await backends.locator('.monaco-list-row', { hasText: 'evil' }).count()) > 0) throw new Error('the workspace backend "evil" is listed');
    await s.shot('backends-ignored');
  });

  await s.check('restricted mode: Run Experiment… refuses before asking anything, and explains', async () => {
    await s.runCommand('Self-Correction Lab: Run Experiment…');
    const error = s.toast('not trusted');
    await error.waitFor({ timeout: 30_000 });
    if (await page.locator('.quick-input-widget', { hasText: 'Run Experiment (1/4)' }).isVisible()) throw new Error('the run asked for a dataset first');
    await s.shot('run-refused');
  });

  await s.check('restricted mode: the explorer\'s Run Experiment on This File starts nothing', async () => {
    await page.keyboard.press('Control+Shift+E');
    const explorer = page.locator('.explorer-folders-view');
    const dataRow = explorer.locator('.monaco-list-row[aria-label^="data"]').first();
    await dataRow.waitFor();
    if ((await dataRow.getAttribute('aria-expanded')) !== 'true') await dataRow.click();
    await explorer.locator('.monaco-list-row[aria-label^="hostile.jsonl"]').first().click({ button: 'right' });
    await page.locator('.context-view .action-item', { hasText: 'Run Experiment on This File' }).first().click();
    await s.toast('not trusted').waitFor({ timeout: 30_000 });
    if (await page.locator('.statusbar-item', { hasText: /sclab \d+\/\d+|sclab starting/ }).count()) throw new Error('a run started');
    await s.shot('explorer-run-refused');
  });

  await page.close();
  return s.summary();
}
