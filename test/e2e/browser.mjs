// Debian's Chromium driven by playwright-core (no browser download), with a fresh profile per launch.
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { tools } from '../../scripts/e2e/tools.mjs';

export async function launchBrowser(work) {
  const profile = mkdtempSync(path.join(work ?? os.tmpdir(), 'chromium-profile-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: tools().chromium,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function openWorkbench(page, url) {
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
}
