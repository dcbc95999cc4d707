import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/model/item';
import { ItemFile } from '../../src/core/runner/item-file';
import { readItems } from '../../src/core/runner/store';

function item(i: number): Item {
  // multi-byte text and long lines, so that lines straddle the 1 MiB read chunks at odd byte positions
  return {
    id: `Age/${i}`,
    kind: 'mcq',
    source: { file: 'bbq.jsonl', line: i + 1 },
    fields: { context: `${'é漢 '.repeat(200 + (i % 7))}${i}`, question: 'Who was forgetful?' },
    choices: ['The grandfather', 'The grandson', "Can't be determined"],
    answer: i % 3,
    meta: { category: 'Age', exampleId: i },
  };
}

function runDirWith(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-item-file-'));
  writeFileSync(path.join(dir, 'items.jsonl'), text);
  return dir;
}

describe('items read on demand from items.jsonl', () => {
  it('gives every item as readItems reads it, across read chunks, blank lines and a last line without newline', async () => {
    const items = Array.from({ length: 1500 }, (_, i) => item(i));
    const lines = items.map((it) => JSON.stringify(it));
    expect(Buffer.byteLength(lines.join('\n'))).toBeGreaterThan(1024 * 1024); // more than one read chunk
    const dir = runDirWith(lines.slice(0, 3).join('\n') + '\n\n  \r\n' + lines.slice(3).join('\n'));
    const file = await ItemFile.open(dir);
    try {
      const expected = await readItems(dir);
      expect(expected).toHaveLength(1500);
      expect(file.length).toBe(1500);
      // out of order and repeated, as concurrent chains ask
      for (const i of [1499, 0, 3, 2, 3, 750, 1024, 1499]) expect(await file.at(i)).toEqual(expected[i]);
      for (let i = 0; i < 1500; i++) expect(await file.at(i)).toEqual(items[i]);
      expect(await file.at(1500)).toBeUndefined();
      expect(await file.at(-1)).toBeUndefined();
    } finally {
      await file.close();
    }
  });

  it('readItems names the file line of a bad item, blank lines counted', async () => {
    const bad = runDirWith([JSON.stringify(item(0)), '', '{"id": 3}'].join('\n') + '\n');
    await expect(readItems(bad)).rejects.toThrow(/items\.jsonl:3:1: not an item/);
    const broken = runDirWith([JSON.stringify(item(0)), '  ', JSON.stringify(item(1)), '{not json'].join('\n'));
    await expect(readItems(broken)).rejects.toThrow(/items\.jsonl:4:1: not valid JSON/);
  });

  it('says which line is not an item when a chain reaches it', async () => {
    const dir = runDirWith([JSON.stringify(item(0)), '{"id": 3}', '{not json', JSON.stringify(item(3))].join('\n') + '\n');
    const file = await ItemFile.open(dir);
    try {
      expect(file.length).toBe(4);
      expect(await file.at(3)).toEqual(item(3));
      await expect(file.at(1)).rejects.toThrow(/items\.jsonl:2:1: not an item/);
      await expect(file.at(2)).rejects.toThrow(/items\.jsonl:3:1: not JSON/);
    } finally {
      await file.close();
    }
  });

  it('fails with the file when items.jsonl is missing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-item-file-'));
    await expect(ItemFile.open(dir)).rejects.toThrow(/items\.jsonl: cannot read \(ENOENT\)/);
  });

  it('reads an empty file as no items', async () => {
    const file = await ItemFile.open(runDirWith(''));
    expect(file.length).toBe(0);
    await file.close();
  });
});
