import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelledTexts, readStatements } from '../../src/core/probes/labelled-data';

const dir = mkdtempSync(path.join(tmpdir(), 'sclab-probe-data-'));
const put = (name: string, text: string): string => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('labelled texts', () => {
  it('CSV with quoted newlines: texts, labels mapped by --positive, start lines', async () => {
    const f = put('a.csv', 'text,label\n"one\nline two",0\n"hate, here",1\nplain,2\n');
    const d = await readLabelledTexts(f, { textField: 'text', labelField: 'label', positive: ['1', '2'] });
    expect(d.rows).toEqual([
      { text: 'one\nline two', label: 0, line: 2 },
      { text: 'hate, here', label: 1, line: 4 },
      { text: 'plain', label: 1, line: 5 },
    ]);
    expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an empty text names its line; JSONL labels may be numbers or booleans', async () => {
    const f = put('b.csv', 'text,label\n"a\nb",0\n"",1\n');
    await expect(readLabelledTexts(f, { textField: 'text', labelField: 'label', positive: ['1'] })).rejects.toMatchObject({ code: 'dataset', message: expect.stringContaining('b.csv:4: field "text"') });
    const j = put('c.jsonl', '{"t":"x","y":true}\n\n{"t":"z","y":false}\n');
    const d = await readLabelledTexts(j, { textField: 't', labelField: 'y', positive: ['true'] });
    expect(d.rows.map((r) => [r.label, r.line])).toEqual([
      [1, 1],
      [0, 3],
    ]);
    const broken = put('d.jsonl', '{"t":"x","y":1}\n{"t":\n');
    await expect(readLabelledTexts(broken, { textField: 't', labelField: 'y', positive: ['1'] })).rejects.toMatchObject({ code: 'dataset', message: expect.stringContaining('d.jsonl:2: not JSON') });
  });

  it('statements: one per line, # comments and blank lines skipped', async () => {
    const f = put('s.txt', '# a comment\nFirst statement.\n\n  Second statement.  \r\n');
    expect((await readStatements(f)).texts).toEqual(['First statement.', 'Second statement.']);
    await expect(readStatements(put('e.txt', '# only a comment\n'))).rejects.toMatchObject({ code: 'dataset' });
  });
});
