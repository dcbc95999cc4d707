// The analysis items a large run's summary reads (AnalysisItems): each equal to the item without its template text,
// with the arrays items repeat shared (one frozen copy) and every value kept exactly.
import { describe, expect, it } from 'vitest';
import { AnalysisItems, analysisItem } from '../../src/core/analysis/analysisItem';
import type { Item } from '../../src/core/model/item';

const bbq = (i: number, choices: string[]): Item => ({
  id: `Age/${i}`,
  kind: 'mcq',
  source: { file: '/data/bbq.jsonl', line: i + 1 },
  fields: { context: `context ${i}`, question: 'Who was not comfortable using the phone?' },
  choices,
  choiceLabels: ['(a)', '(b)', '(c)'],
  answer: 2,
  meta: { category: 'Age', exampleId: i, contextCondition: 'ambig', questionPolarity: 'neg', unknownIndex: 2, targetIndex: 0, stereotypedGroups: ['old'], answerGroups: ['old', 'nonOld', 'unknown'] },
});

describe('AnalysisItems', () => {
  it('gives each item as analysisItem does, with repeated arrays shared and frozen', () => {
    const shared = new AnalysisItems();
    const a = bbq(0, ['The grandfather', 'The grandson', "Can't be determined"]);
    const b = bbq(1, ['The grandfather', 'The grandson', "Can't be determined"]);
    const c = bbq(2, ['The grandmother', 'The grandson', "Can't be determined"]);
    const [sa, sb, sc] = [a, b, c].map((x) => shared.add(structuredClone(x)));
    expect([sa, sb, sc]).toEqual([a, b, c].map(analysisItem));
    expect(sa!.fields).toEqual({});
    expect(sb!.choices).toBe(sa!.choices);
    expect(sc!.choices).not.toBe(sa!.choices);
    expect(sc!.choiceLabels).toBe(sa!.choiceLabels);
    expect(sb!.meta.answerGroups).toBe(sa!.meta.answerGroups);
    expect(Object.isFrozen(sa!.choices)).toBe(true);
    // distinct items keep distinct metadata objects (a shared one would tie their example ids)
    expect(sb!.meta).not.toBe(sa!.meta);
  });

  it('keeps what JSON can hold exactly: -0, nested objects and arrays, a "__proto__" key', () => {
    const shared = new AnalysisItems();
    const item = JSON.parse('{"id":"x","kind":"mcq","source":{"file":"f","line":1},"fields":{},"choices":["a","b"],"answer":0,"meta":{"__proto__":{"polluted":true},"zeros":[-0,0],"zero":[0,0],"nested":{"k":[1,{"z":-0}]},"pctFemaleBls":38.5}}') as Item;
    const other = JSON.parse('{"id":"y","kind":"mcq","source":{"file":"f","line":2},"fields":{},"choices":["a","b"],"meta":{"zeros":[0,0]}}') as Item;
    const got = shared.add(item);
    const got2 = shared.add(other);
    expect(got).toEqual(analysisItem(item));
    expect(Object.getPrototypeOf(got.meta)).toBe(Object.prototype);
    expect(Object.keys(got.meta)).toEqual(['__proto__', 'zeros', 'zero', 'nested', 'pctFemaleBls']);
    expect(Object.is((got.meta.zeros as number[])[0], -0)).toBe(true);
    expect(Object.is(((got.meta.nested as { k: [number, { z: number }] }).k[1]).z, -0)).toBe(true);
    // [0, 0] is shared with the other item; [-0, 0] is not taken for it
    expect(got2.meta.zeros).toBe(got.meta.zero);
    expect(Object.is((got2.meta.zeros as number[])[0], 0)).toBe(true);
  });
});
