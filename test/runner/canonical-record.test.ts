// isCanonicalRoundRecord: the fast check that lets a read of records.jsonl skip the schema's copy must say yes only
// where the schema gives back the same value, and no to anything the schema would reject or change.
import { describe, expect, it } from 'vitest';
import { isCanonicalRoundRecord, RoundRecordSchema, type RoundRecord } from '../../src/core/model/record';

const base: RoundRecord = {
  itemId: 'bbq-1',
  condition: 'self-correct',
  round: 1,
  messages: [
    { role: 'user', content: 'Who?' },
    { role: 'assistant', content: 'The answer is (a)' },
    { role: 'user', content: 'Review.' },
  ],
  prefill: 'The answer is',
  response: ' (b)',
  answer: { index: 1, label: '(b)' },
  answerFirstOption: null,
  correct: false,
  latencyMs: 12.5,
  attempts: 2,
  requests: [{ request: 'POST /chat/completions', attempts: 2 }],
  cached: false,
  finishReason: 'stop',
  topLogprobs: [[{ token: ' (', logprob: -0.1 }], [{ token: 'b', logprob: -0.2 }, { token: 'a', logprob: -1 }]],
  generatedTokens: [' (', 'b'],
  optionScores: { method: 'exact', logprobs: [-2, -1, null], tokenCounts: [2, 2, 3], aggregate: 'mean', goldRank: 2 },
  probes: { morality: { module: 'residual', position: 'last', layers: [0, 1], cosine: [0.1, null], probability: [0.5, 0.6], band: [0, 1], moralDirection: 'higher' } },
  scores: { toxicity: { value: null, scorer: 'perspective', version: 'v1', error: 'quota' } },
  error: { code: 'timeout', message: 'no answer' },
  at: '2026-12-03T10:00:00.000Z',
};

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const without = (k: keyof RoundRecord): unknown => {
  const { [k]: _dropped, ...rest } = base;
  return json(rest);
};

describe('isCanonicalRoundRecord', () => {
  it('says yes to a record in the exact shape, which the schema gives back unchanged', () => {
    const minimal = { itemId: 'x', condition: 'baseline', round: 0, messages: [], prefill: '', response: '', answer: null, correct: null, latencyMs: 0, attempts: 1, cached: true, at: '' };
    for (const v of [json(base), json(minimal), without('optionScores'), without('probes')]) {
      expect(isCanonicalRoundRecord(v)).toBe(true);
      expect(RoundRecordSchema.parse(v)).toEqual(v);
    }
  });

  it('says no where the schema would reject, fill a default or drop a key', () => {
    const cases: Array<[string, unknown]> = [
      ['attempts missing (default)', without('attempts')],
      ['cached missing (default)', without('cached')],
      ['unknown key', { ...(json(base) as object), extra: 1 }],
      ['unknown nested key', json({ ...base, answer: { index: 1, label: '(b)', why: 'x' } })],
      ['bad role', json({ ...base, messages: [{ role: 'tool', content: 'x' }] })],
      ['negative round', json({ ...base, round: -1 })],
      ['fractional round', json({ ...base, round: 1.5 })],
      ['negative latency', json({ ...base, latencyMs: -1 })],
      ['zero attempts', json({ ...base, attempts: 0 })],
      ['string correct', json({ ...base, correct: 'yes' })],
      ['bad method', json({ ...base, optionScores: { method: 'guess', logprobs: [], goldRank: null } })],
      ['zero gold rank', json({ ...base, optionScores: { method: 'exact', logprobs: [], goldRank: 0 } })],
      ['band of three', json({ ...base, probes: { p: { ...base.probes!.morality!, band: [0, 1, 2] } } })],
      ['bad module', json({ ...base, probes: { p: { ...base.probes!.morality!, module: 'x' } } })],
      ['score value string', json({ ...base, scores: { t: { value: '1', scorer: 's', version: 'v' } } })],
      ['top-k logprob null', json({ ...base, topLogprobs: [[{ token: 'a', logprob: null }]] })],
      ['error without message', json({ ...base, error: { code: 'x' } })],
      ['not an object', []],
      ['null', null],
      ['__proto__ score key', JSON.parse(JSON.stringify(base).replace('"toxicity":', '"__proto__":'))],
    ];
    for (const [name, v] of cases) {
      expect(isCanonicalRoundRecord(v), name).toBe(false);
      const parsed = RoundRecordSchema.safeParse(v);
      // either the schema rejects it, or what it gives back differs from the input (a default or a dropped key)
      if (parsed.success) expect(parsed.data, name).not.toEqual(v);
    }
  });
});
