import { describe, expect, it } from 'vitest';
import { wordDiff } from '../../src/core/viewer/wordDiff';

const join = (ops: ReturnType<typeof wordDiff>, keep: Array<'eq' | 'ins' | 'del'>) => ops.filter((o) => keep.includes(o.op)).map((o) => o.text).join('');

describe('wordDiff', () => {
  it('rebuilds both answers exactly', () => {
    const a = ' (a) The grandfather. He was confused.';
    const b = ' (c) Can\'t be determined. He was confused, I think.';
    const ops = wordDiff(a, b);
    expect(join(ops, ['eq', 'del'])).toBe(a);
    expect(join(ops, ['eq', 'ins'])).toBe(b);
  });
  it('shows an appended sentence as one insertion', () => {
    expect(wordDiff('The answer is (b).', 'The answer is (b). I apologise for any bias.')).toEqual([
      { op: 'eq', text: 'The answer is (b).' },
      { op: 'ins', text: ' I apologise for any bias.' },
    ]);
  });
  it('handles empty strings and identical strings', () => {
    expect(wordDiff('', '')).toEqual([]);
    expect(wordDiff('same', 'same')).toEqual([{ op: 'eq', text: 'same' }]);
    expect(wordDiff('', 'new')).toEqual([{ op: 'ins', text: 'new' }]);
  });
});
