import { describe, expect, it } from 'vitest';
import { goldRank, labelOpening, labelOptionScores } from '../../src/core/runner/ranking';
import { mcqItem } from '../analysis/fixtures';

describe('ranking helpers', () => {
  const abc = mcqItem('q', 2);
  const wino = mcqItem('w', 0, {}, ['they', 'he', 'she']);
  it('the label request opens the answer format: " (" for lettered labels, unless the prefill already ends with "("', () => {
    expect(labelOpening(abc, 'The single most likely answer choice is')).toBe(' (');
    expect(labelOpening(abc, 'The answer is (')).toBe('');
    expect(labelOpening(wino, 'The single, most likely answer choice is')).toBe('');
  });
  it('label option scores: exact label tokens only, best alternative per option, best-rank ties', () => {
    // "c" −0.5 and "C" −0.2 both name (c): best −0.2; "(a" −0.2 names (a) → tie at the top: gold (c) ranks 1
    const s = labelOptionScores([{ token: 'c', logprob: -0.5 }, { token: 'C', logprob: -0.2 }, { token: ' (a', logprob: -0.2 }, { token: 'ab', logprob: -0.01 }], abc);
    expect(s).toEqual({ method: 'label-logprob', logprobs: [-0.2, null, -0.2], goldRank: 1 });
    // " the" is not "they"; they absent → censored at 2 + 1
    expect(labelOptionScores([{ token: ' the', logprob: -0.1 }, { token: ' he', logprob: -0.4 }, { token: ' she', logprob: -0.9 }], wino)).toEqual({ method: 'label-logprob', logprobs: [null, -0.4, -0.9], goldRank: 3 });
  });
  it('exact: mean per token or sum, best-rank ties', () => {
    const scores = { logprobs: [-2, -1.5, -2.4], tokenLogprobs: [[-1, -1], [-1.5], [-0.8, -0.8, -0.8]] };
    expect(goldRank(scores, 2, 'mean')).toBe(1); // means −1, −1.5, −0.8
    expect(goldRank(scores, 2, 'sum')).toBe(3);
    expect(goldRank({ logprobs: [-1, -1, -2], tokenLogprobs: [[-1], [-1], [-2]] }, 1, 'sum')).toBe(1);
  });
});
