import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { MAX_LINE_BYTES, readDataset, validateDataset } from '../../src/core/datasets';

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

test('a CSV header with 1,000,000 columns is refused with one clear diagnostic (the duplicate check was quadratic)', async () => {
  const file = path.join(dir, 'wide.csv');
  const header = Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',');
  writeFileSync(file, `${header},question\n${'x,'.repeat(1_000_000)}Why?\n`);
  const report = await validateDataset(file);
  expect(report.items).toBe(0);
  expect(report.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
    expect.stringMatching(/^1:1 the header has 1000001 columns; at most 10000 are read/),
  ]);
});

test('duplicate columns in a wide header are found with a Set and listed once each', async () => {
  const file = path.join(dir, 'dups.csv');
  const cols = Array.from({ length: 9_000 }, (_, i) => `c${i % 4_000}`);
  writeFileSync(file, `question,${cols.join(',')}\nWhy?,${cols.map(() => 'x').join(',')}\n`);
  const report = await validateDataset(file);
  expect(report.diagnostics[0]!.message).toMatch(/^duplicate column name\(s\) in the header: c0, c1, .*c19 and 3980 more$/);
});

test('a 20 MB CSV without line breaks: one diagnostic naming the line, and memory bounded by the line cap', async () => {
  const file = path.join(dir, 'oneline.csv');
  const out = createWriteStream(file);
  out.write('question,answer,');
  const block = 'abcdefghij,'.repeat(100_000); // 1.1 MB
  for (let i = 0; i < 19; i++) if (!out.write(block)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  expect(statSync(file).size).toBeGreaterThan(MAX_LINE_BYTES);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const diagnostics: string[] = [];
  for await (const ev of readDataset(file, { format: 'generic-csv' })) {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    if ('diagnostic' in ev) diagnostics.push(`${ev.diagnostic.line}:${ev.diagnostic.column} ${ev.diagnostic.message}`);
  }
  expect(diagnostics).toEqual([expect.stringMatching(/^1:1 line is \d+ bytes long; lines over 16777216 bytes are not read/)]);
  expect(peak - before).toBeLessThan(100 * 1024 * 1024);
});
