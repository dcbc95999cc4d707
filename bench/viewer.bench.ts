// bench:viewer — opening a large run: 10,000 items × (1 baseline + 6 self-correct rounds) with 32-layer probes.
// Measures the data service (cold: read + analyse; warm: from the stamped summary.json cache) and, with Chromium,
// the time from navigating to `sclab view` to the first painted chart canvas (pixels checked with getImageData).
// Usage: npm run bench:viewer [-- --items N --rounds R --layers L --keep DIR]
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createViewerService } from '../src/core/viewer/service';
import { writeSyntheticRun } from '../test/viewer/syntheticRun';
import { CHROMIUM_ARGS, loadChromium, startView, waitForPaintedChart } from '../test/viewer/browserSupport';

const CHROMIUM = '/usr/bin/chromium';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

const ms = (x: number) => `${x.toFixed(0).padStart(7)} ms`;

async function main(): Promise<void> {
  const items = arg('items', 10_000);
  const rounds = arg('rounds', 6);
  const layers = arg('layers', 32);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sclab-viewer-bench-'));
  const dir = path.join(tmp, 'run');
  try {
    const [gen, genMs] = await timed(() => writeSyntheticRun(dir, { items, rounds, layers }));
    const size = (await fs.stat(path.join(dir, 'records.jsonl'))).size;
    process.stdout.write(`run: ${items} items × (1 + ${rounds}) rounds, ${layers}-layer probes: ${gen.records} records, records.jsonl ${(size / 1e6).toFixed(1)} MB (generated in ${(genMs / 1000).toFixed(1)} s)\n`);
    process.stdout.write(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs\n\n`);

    const req = (method: string, params: unknown = {}) => ({ kind: 'request', id: 1, method, params });
    const cold = createViewerService({ runDir: dir });
    const [, coldOverview] = await timed(() => cold.handle(req('overview')));
    const [, firstSamples] = await timed(() => cold.handle(req('samples', { offset: 0, limit: 100 })));
    const [, fullAnalysis] = await timed(() => cold.handle(req('ranks')));
    const [, itemMs] = await timed(() => cold.handle(req('item', { itemId: 'bbq-05000' })));
    const warm = createViewerService({ runDir: dir });
    const [overview, warmOverview] = await timed(() => warm.handle(req('overview')));
    if (!overview.ok) throw new Error(`overview failed: ${overview.error.message}`);
    const [, warmProbes] = await timed(() => warm.handle(req('probes')));
    process.stdout.write('data service\n');
    process.stdout.write(`  cold open → overview (read records, analyse without resamples) ${ms(coldOverview)}\n`);
    process.stdout.write(`  then first samples page (row index built)                    ${ms(firstSamples)}\n`);
    process.stdout.write(`  then ranks (full analysis, 1000 resamples; cached)           ${ms(fullAnalysis)}\n`);
    process.stdout.write(`  then one item's detail                                      ${ms(itemMs)}\n`);
    process.stdout.write(`  warm open → overview (summary.json cache)                   ${ms(warmOverview)}\n`);
    process.stdout.write(`  warm open → probes page                                     ${ms(warmProbes)}\n\n`);

    if (!existsSync(CHROMIUM)) {
      process.stdout.write(`browser: skipped (${CHROMIUM} missing; apt-get install -y chromium)\n`);
      return;
    }
    const chromium = loadChromium();
    const { url, child } = await startView([dir]);
    const ctx = await chromium.launchPersistentContext(path.join(tmp, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 } });
    try {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const page = await ctx.newPage();
        const t = performance.now();
        await page.goto(url);
        await waitForPaintedChart(page);
        times.push(performance.now() - t);
        if (i === 0) await page.screenshot({ path: path.join(os.tmpdir(), 'sclab-viewer-bench.png') });
        await page.close();
      }
      // the same run opened for the first time (no summary.json): the service reads and analyses before answering
      await fs.rm(path.join(dir, 'summary.json'));
      const coldView = await startView([dir]);
      let coldNav = 0;
      try {
        const page = await ctx.newPage();
        const t = performance.now();
        await page.goto(coldView.url);
        await waitForPaintedChart(page, 120_000);
        coldNav = performance.now() - t;
        await page.close();
      } finally {
        coldView.child.kill('SIGTERM');
      }
      const sorted = [...times].sort((a, b) => a - b);
      process.stdout.write('browser (Chromium, headless, sclab view on the warm run folder)\n');
      process.stdout.write(`  navigation → first painted chart: first ${ms(times[0]!)}, median of 5 ${ms(sorted[2]!)}, best ${ms(sorted[0]!)}\n`);
      process.stdout.write(`  target: under 1000 ms — ${sorted[2]! < 1000 ? 'met' : 'NOT met'}\n`);
      process.stdout.write(`  first open of the run (no cache yet; sclab view started with the page) → first painted chart ${ms(coldNav)}\n`);
    } finally {
      child.kill('SIGTERM');
      await ctx.close();
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
