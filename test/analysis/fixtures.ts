// Hand-made records and items for the analysis golden tests.
import type { Item } from '../../src/core/model/item';
import type { RoundRecord } from '../../src/core/model/record';

let line = 0;

export function mcqItem(id: string, answer: number, meta: Record<string, unknown> = {}, labels = ['(a)', '(b)', '(c)']): Item {
  return { id, kind: 'mcq', source: { file: 'hand.jsonl', line: ++line }, fields: {}, choices: labels.map((l) => `option ${l}`), choiceLabels: labels, answer, meta };
}

export function genItem(id: string): Item {
  return { id, kind: 'generation', source: { file: 'hand.jsonl', line: ++line }, fields: { prompt: id }, meta: {} };
}

export function bbqItem(id: string, o: { cc: 'ambig' | 'disambig'; pol: 'neg' | 'nonneg'; target: number | null; unknown: number; gold: number; category?: string }): Item {
  return mcqItem(id, o.gold, { category: o.category ?? 'Age', contextCondition: o.cc, questionPolarity: o.pol, unknownIndex: o.unknown, targetIndex: o.target, stereotypedGroups: [] });
}

/** A record; `answer` is the chosen option index (null = unparsed); correct follows the item's gold when given. */
export function rec(itemId: string, condition: string, round: number, o: Partial<RoundRecord> & { pick?: number | null; item?: Item } = {}): RoundRecord {
  const { pick, item, ...rest } = o;
  const answer = pick === undefined || pick === null ? null : { index: pick, label: item?.choiceLabels?.[pick] ?? String(pick) };
  const correct = o.correct !== undefined ? o.correct : item?.kind === 'mcq' && answer ? answer.index === item.answer : null;
  return {
    itemId,
    condition,
    round,
    messages: [{ role: 'user', content: 'q' }],
    prefill: '',
    response: answer ? ` ${answer.label}` : '',
    answer,
    correct,
    latencyMs: 1,
    attempts: 1,
    cached: false,
    at: '2026-01-01T00:00:00.000Z',
    ...rest,
  };
}

export function probe(cosine: Array<number | null>, layers = cosine.map((_, i) => i), probability?: Array<number | null>) {
  return { module: 'residual' as const, position: 'last' as const, layers, cosine, ...(probability ? { probability } : {}) };
}

export function tox(value: number | null, scorer = 'offline-ngram', version = '1') {
  return { toxicity: { value, scorer, version } };
}
