import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readDataset } from '../../src/core/datasets';

const dir = mkdtempSync(path.join(tmpdir(), 'sclab-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a 50 MB generic JSONL streams with bounded memory', async () => {
  const file = path.join(dir, 'big.jsonl');
  const out = createWriteStream(file);
  // ~1 KB rows written in 1 MB blocks: quick to generate
  const pad = 'x'.repeat(900);
  const rowsPerBlock = 1000;
  const blocks = 54;
  for (let b = 0; b < blocks; b++) {
    let block = '';
    for (let r = 0; r < rowsPerBlock; r++) {
      const n = b * rowsPerBlock + r;
      block += `{"id":"r${n}","question":"Question ${n}?","choices":["yes","no"],"answer":${n % 2},"pad":"${pad}"}\n`;
    }
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  expect(statSync(file).size).toBeGreaterThan(50 * 1024 * 1024);

  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  let items = 0;
  let diagnostics = 0;
  for await (const ev of readDataset(file)) {
    if ('item' in ev) items++;
    else diagnostics++;
    if (items % 5000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  expect(diagnostics).toBe(0);
  expect(items).toBe(blocks * rowsPerBlock);
  expect(peak - before).toBeLessThan(200 * 1024 * 1024);
});
