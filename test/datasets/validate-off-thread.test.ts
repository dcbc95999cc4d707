// Validate Dataset in a worker thread (what the extension uses): the same report as in-thread, and cancellable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateDataset } from '../../src/core/datasets';
import { validateDatasetOffThread } from '../../src/core/datasets/validate-off-thread';

const WORKER = path.resolve(__dirname, '../../dist/dataset-worker.js');

describe('validation off the main thread', () => {
  it('gives the same report as validating in-thread', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-vwork-'));
    const file = path.join(dir, 'q.csv');
    writeFileSync(file, 'id,question,choice_a,choice_b,answer\n1,Who?,A,B,a\n1,Who?,A,B,c\n,,,,\n');
    const inThread = await validateDataset(file);
    expect(inThread.diagnostics.length).toBeGreaterThan(0);
    expect(await validateDatasetOffThread(file, { workerPath: WORKER })).toEqual(inThread);
  });

  it('keeps the event loop free on a 1,000,000-column header, and a cancel stops it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-vwork-'));
    const file = path.join(dir, 'wide.csv');
    writeFileSync(file, `${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const report = await validateDatasetOffThread(file, { workerPath: WORKER });
    clearInterval(timer);
    expect(report.diagnostics[0]!.message).toMatch(/1000000 columns/);
    expect(ticks).toBeGreaterThan(0); // the main thread ran timers while the worker read the file
    const controller = new AbortController();
    const pending = validateDatasetOffThread(file, { workerPath: WORKER, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
  });
});
