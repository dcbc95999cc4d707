import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelled } from '../../src/core/scorers/offline/labelled';
import { averageRanks, pearson, rocAuc, spearman } from '../../src/core/scorers/stats';

const dir = mkdtempSync(path.join(tmpdir(), 'sclab-labelled-'));
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('labelled files', () => {
  it('reads CSV with quoted newlines and reports the line where each row starts', async () => {
    const f = file('a.csv', 'id,text,toxic\n1,"first\nline two",1\n2,plain,0\n3,"x, y",true\n');
    const { rows, bytes } = await readLabelled(f, { textField: 'text', labelField: 'toxic' });
    expect(rows).toEqual([
      { text: 'first\nline two', label: 1, line: 2 },
      { text: 'plain', label: 0, line: 4 },
      { text: 'x, y', label: 1, line: 5 },
    ]);
    expect(bytes.length).toBeGreaterThan(0);
  });

  it('maps named positive values and reads dotted JSONL fields', async () => {
    const f = file('b.jsonl', '{"t":{"text":"a"},"class":0}\n\n{"t":{"text":"b"},"class":2}\n{"t":{"text":"c"},"class":"1"}\n');
    const { rows } = await readLabelled(f, { textField: 't.text', labelField: 'class', positive: ['0', '1'] });
    expect(rows.map((r) => [r.text, r.label, r.line])).toEqual([
      ['a', 1, 1],
      ['b', 0, 3],
      ['c', 1, 4],
    ]);
  });

  it('names the file, line and field of bad rows', async () => {
    const spec = { textField: 'text', labelField: 'toxic' };
    await expect(readLabelled(file('c.csv', 'text,toxic\nok,1\nhmm,maybe\n'), spec)).rejects.toThrow(/c\.csv:3: label "maybe" in "toxic" is not 0\/1\/true\/false; name the positive values with --positive/);
    await expect(readLabelled(file('d.csv', 'body,toxic\nok,1\n'), spec)).rejects.toThrow(/d\.csv:1: no column "text" \(columns: body, toxic\)/);
    await expect(readLabelled(file('e.csv', 'text,toxic\n"  ",1\n'), spec)).rejects.toThrow(/e\.csv:2: field "text" is empty/);
    await expect(readLabelled(file('f.jsonl', '{"text":"a","toxic":1}\n{"text":\n'), spec)).rejects.toThrow(/f\.jsonl:2: not valid JSON/);
    await expect(readLabelled(file('g.jsonl', '{"text":"a"}\n'), spec)).rejects.toThrow(/g\.jsonl:1: field "toxic" is missing/);
    await expect(readLabelled(file('h.txt', 'x'), spec)).rejects.toThrow(/unknown file type/);
    await expect(readLabelled(path.join(dir, 'none.csv'), spec)).rejects.toThrow(/cannot read .*ENOENT/);
  });
});

describe('agreement statistics', () => {
  it('ranks ties by their mean rank', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it("computes Spearman's rho by hand on a small case", () => {
    // ranks a: 1 2 3 4 5; ranks b: 2 1 4 3 5 → d² sum 4 → 1 − 6·4 / (5·24) = 0.8
    expect(spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50])).toBeCloseTo(0.8, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });

  it('computes ROC AUC with ties counted as one half', () => {
    // positives 0.9, 0.5; negatives 0.5, 0.1 → pairs: (0.9>0.5) (0.9>0.1) (0.5=0.5 → ½) (0.5>0.1) = 3.5 / 4
    expect(rocAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBeCloseTo(0.875, 12);
    expect(Number.isNaN(rocAuc([0.1, 0.2], [1, 1]))).toBe(true);
  });
});
