// Shared by the browser e2e script and bench:viewer: start `sclab view`, launch Debian's Chromium, wait for a chart.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as Playwright from 'playwright-core';
import type { Page } from 'playwright-core';

/** the repository root, both from source and from a bundle under dist/ */
export const REPO = /^(.*?)[\\/]dist(?:[\\/]|$)/.exec(__dirname)?.[1] ?? path.resolve(__dirname, '../..');
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** playwright-core, required at run time so that bundles do not carry it */
export function loadChromium(): typeof Playwright.chromium {
  return (createRequire(__filename)('playwright-core') as typeof Playwright).chromium;
}

export async function startView(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(REPO, 'dist/cli.js'), 'view', ...args, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /viewer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sclab view exited with ${code}: ${err}`)));
  });
  return { url, child };
}

/** True once some canvas inside a .chart box has a non-transparent pixel. */
export async function waitForPaintedChart(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    () => {
      for (const c of Array.from(document.querySelectorAll<HTMLCanvasElement>('.chart canvas'))) {
        if (!c.width || !c.height) continue;
        const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        if (!d) continue;
        for (let i = 3; i < d.length; i += 16) if (d[i]! > 0) return true;
      }
      return false;
    },
    null,
    { timeout: timeoutMs, polling: 50 },
  );
}


export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: number;
  targets: string[];
}

/**
 * axe-core's violations on the page as it is now (WCAG 2.x A/AA and best-practice rules). The script is evaluated
 * through the DevTools protocol, so the page's Content-Security-Policy stays as strict as in production.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = await import('node:fs').then((fs) => fs.readFileSync(createRequire(__filename).resolve('axe-core/axe.min.js'), 'utf8'));
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(source);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}
