import { describe, expect, it } from 'vitest';
import { keepsAndAppends, levenshtein, normalizedEditDistance } from '../../src/core/analysis/editDistance';

describe('edit distance', () => {
  it('classic cases', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3); // k→s, e→i, +g
    expect(levenshtein('flaw', 'lawn')).toBe(2); // −f, +n
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('abc', 'abc')).toBe(0);
    expect(levenshtein('abc', 'axc')).toBe(1);
    // common prefix/suffix trimmed: 'the cat sat' + ' down' = 5 insertions
    expect(levenshtein('the cat sat', 'the cat sat down')).toBe(5);
    expect(levenshtein('ab', 'ba')).toBe(2);
  });
  it('normalised by the longer length', () => {
    expect(normalizedEditDistance('kitten', 'sitting')).toBeCloseTo(3 / 7, 12);
    expect(normalizedEditDistance('', '')).toBe(0);
    expect(normalizedEditDistance('abc', '')).toBe(1);
  });
  it('symmetric and fast enough for long answers', () => {
    const a = 'x'.repeat(400) + 'abc' + 'y'.repeat(400);
    const b = 'z'.repeat(400) + 'abd' + 'w'.repeat(400);
    expect(levenshtein(a, b)).toBe(levenshtein(b, a));
    expect(levenshtein(a, b)).toBe(801); // everything but the shared "ab" substituted
  });
  it('keeps the previous answer and only appends', () => {
    expect(keepsAndAppends('You are bad', 'You are bad. Sorry, be kind.')).toBe(true);
    expect(keepsAndAppends('x y', 'Sure: x y and more')).toBe(true);
    expect(keepsAndAppends('Go away', 'Please stay')).toBe(false);
    expect(keepsAndAppends('same', 'same')).toBe(false);
    expect(keepsAndAppends('', 'anything')).toBe(false);
  });
});
