import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/core/analysis/analyze';
import { compareRuns } from '../../src/core/analysis/compare';
import { indexRun } from '../../src/core/analysis/runIndex';
import { csvField, recordsToCsv } from '../../src/core/report/csv';
import { bbqItem, genItem, mcqItem, probe, rec, tox } from './fixtures';

describe('comparing two runs item by item', () => {
  it('McNemar exact on few flips, paired delta', () => {
    const items = Array.from({ length: 10 }, (_, i) => mcqItem(`q${i}`, 0));
    // A right on q0–q4; B right on q1–q9 → A✓B✗: q0 (1); A✗B✓: q5–q9 (5)
    const a = items.map((it, i) => rec(it.id, 'baseline', 0, { correct: i < 5 }));
    const b = items.map((it, i) => rec(it.id, 'baseline', 0, { correct: i >= 1 }));
    const c = compareRuns(indexRun(a, items), indexRun([...b, rec('q0', 'extra', 0, { correct: true })], items), { seed: 2, resamples: 300 });
    expect(c.rows).toHaveLength(1);
    const r = c.rows[0]!;
    expect(r).toMatchObject({ condition: 'baseline', round: 0, paired: 10, a: 0.5, b: 0.9 });
    expect(r.delta!.estimate).toBeCloseTo(0.4, 12);
    // b=1, c=5: n=6, P(X ≤ 1) = 7/64 → p = 14/64 = 0.21875
    expect(r.mcnemar).toMatchObject({ aRightBWrong: 1, aWrongBRight: 5, method: 'exact' });
    expect(r.mcnemar!.p).toBeCloseTo(0.21875, 12);
    expect(c.onlyB).toEqual(['extra']);
  });
  it('chi-square for many flips; generation compares the score', () => {
    const items = Array.from({ length: 40 }, (_, i) => mcqItem(`q${i}`, 0));
    // A✓B✗ on q0–q9 (10), A✗B✓ on q10–q34 (25), both ✓ on q35–q39
    const a = items.map((it, i) => rec(it.id, 'b', 0, { correct: i < 10 || i >= 35 }));
    const b = items.map((it, i) => rec(it.id, 'b', 0, { correct: i >= 10 }));
    const r = compareRuns(indexRun(a, items), indexRun(b, items)).rows[0]!;
    expect(r.mcnemar!.method).toBe('chi-square');
    expect(r.mcnemar!.statistic).toBeCloseTo(5.6, 12);
    const g = [genItem('x'), genItem('y')];
    const ga = [rec('x', 'b', 0, { scores: tox(0.5) }), rec('y', 'b', 0, { scores: tox(0.7) })];
    const gb = [rec('x', 'b', 0, { scores: tox(0.2) }), rec('y', 'b', 0, { scores: tox(0.6) })];
    const gr = compareRuns(indexRun(ga, g), indexRun(gb, g)).rows[0]!;
    expect(gr.metric).toBe('toxicity');
    expect(gr.mcnemar).toBeUndefined();
    expect(gr.delta!.estimate).toBeCloseTo(-0.2, 12); // (−0.3 − 0.1)/2
  });
});

describe('CSV export', () => {
  it('RFC 4180 quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(false)).toBe('false');
  });
  it('neutralises text that a spreadsheet would run as a formula; numbers stay numbers', () => {
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvField('+1+2')).toBe("'+1+2");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(-0.5)).toBe('-0.5');
    const items = [mcqItem('=cmd|x', 0)];
    const csv = recordsToCsv([rec('=cmd|x', 'baseline', 0, { item: items[0], pick: 0, response: '@evil' })], items);
    const row = csv.split('\r\n')[1]!;
    expect(row.startsWith("'=cmd|x,")).toBe(true);
    expect(row.endsWith(",'@evil")).toBe(true);
  });
  it('one row per record with rank, score, band and error columns', () => {
    const items = [mcqItem('q1', 0), mcqItem('q,2', 1)];
    const records = [
      rec('q1', 'baseline', 0, { item: items[0], pick: 0, optionScores: { method: 'exact', logprobs: [-1, -2, -3], goldRank: 1 }, scores: tox(0.25), probes: { bias: probe([0.1, 0.2, 0.3, 0.4]) }, response: 'It is "(a)", clearly.\nYes' }),
      rec('q,2', 'baseline', 0, { error: { code: 'timeout', message: 'slow' } }),
    ];
    const csv = recordsToCsv(records, items);
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(4); // header, two rows, trailing ""
    expect(lines[0]).toBe('item_id,condition,round,answer_index,answer_label,correct,gold_rank,gold_rank_method,toxicity,toxicity_scorer,probe_bias_band_2_3_cosine,error_code,cached,latency_ms,response');
    // band 2–3 of 4 layers: (0.3 + 0.4)/2 = 0.35
    expect(lines[1]).toBe('q1,baseline,0,0,(a),true,1,exact,0.25,offline-ngram@1,0.35,,false,1,"It is ""(a)"", clearly.\nYes"'.replace('\\n', '\n'));
  });
});

describe('the full summary', () => {
  it('joins everything and leaves out what does not apply', () => {
    const items = [bbqItem('A1', { cc: 'ambig', pol: 'neg', target: 0, unknown: 2, gold: 2 })];
    const records = [rec('A1', 'baseline', 0, { item: items[0], pick: 0 }), rec('A1', 'self-correct', 0, { item: items[0], pick: 2 }), rec('A1', 'self-correct', 1, { item: items[0], pick: 2 }), rec('zz', 'baseline', 0, { correct: null })];
    const s = analyzeRun(records, items);
    expect(s.schema).toBe('sclab.summary/1');
    expect(Object.keys(s.conditions)).toEqual(['baseline', 'self-correct']);
    const b0 = s.conditions.baseline!.rounds[0]!;
    expect(b0).toMatchObject({ round: 0, n: 2, errors: 0, accuracy: 0 });
    // one biased non-unknown answer, accuracy 0 → s = 1, s_amb = (1 − 0)·1
    expect(b0.biasScore!.ambig!.score).toBe(1);
    expect(b0.toxicity).toBeUndefined();
    expect(b0.probes).toBeUndefined();
    expect(b0.goldRank).toBeUndefined();
    expect(s.unknownItems).toBe(1);
    expect(s.flips).toEqual([{ condition: 'self-correct', items: 1, stayedCorrect: 1, stayedWrong: 0, correctToWrong: 0, wrongToCorrect: 0, wavering: 0, incomplete: 0 }]);
    // one paired item: a paired test needs two, so no verdict (and the message says why, not "unanswered")
    expect(s.superficiality![0]!.case).toBe('no-data');
    expect(s.superficiality![0]!.verdict).toBe('no verdict: only 1 item paired with baseline (a paired test needs 2)');
    expect(s.instructions).toBeUndefined();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
