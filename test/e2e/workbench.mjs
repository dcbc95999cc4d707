// What every Playwright scenario in the workbench needs: named checks that screenshot their failures, numbered
// screenshots, the command palette, QuickPick answers, toasts and the extension's activity-bar view.
import * as path from 'node:path';

export function workbenchSession(page, { shots, prefix = '' }) {
  const results = [];
  let n = 0;
  const shot = (name) => page.screenshot({ path: path.join(shots, `${prefix}${String(++n).padStart(2, '0')}-${name}.png`) });
  const check = async (name, fn) => {
    const started = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      console.log(`  ✔ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      results.push({ name, ok: false });
      console.log(`  ✘ ${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
    }
  };
  const runCommand = async (title) => {
    // the palette may open before every command is registered: try again with a fresh palette
    // (and a key press can be lost while focus moves between editors: press it again)
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      try {
        await input.waitFor({ state: 'visible', timeout: 5_000 });
        await input.fill(`>${title}`);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 5_000 });
        break;
      } catch (err) {
        await page.keyboard.press('Escape');
        if (attempt === 4) throw err;
      }
    }
    await page.keyboard.press('Enter');
  };
  const answerPick = async (text) => {
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor();
    // pressed on the input itself: a page that redraws (the walkthrough completing a step) may hold the focus
    await input.press('Enter');
  };
  const answerInput = async (text) => {
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
    await input.press('Enter');
  };
  const toast = (hasText) => page.locator('.notifications-toasts .notification-toast', { hasText }).first();
  // the activity-bar icon toggles: click it only when the Runs view is not showing
  const openSideView = async () => {
    const header = page.locator('.pane-header', { hasText: 'Runs' }).first();
    if (!(await header.isVisible())) await page.locator('.activitybar [aria-label^="Self-Correction Lab"]').first().click();
    await header.waitFor({ timeout: 10_000 });
  };
  const summary = () => ({ total: results.length, passed: results.filter((r) => r.ok).length, results });
  return { results, shot, check, runCommand, answerPick, answerInput, toast, openSideView, summary };
}
