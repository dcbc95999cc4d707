import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadDataset, readDataset, validateDataset } from '../../src/core/datasets';
import { isSclabError } from '../../src/core/model/errors';
import { brief, fixture, FIXTURES } from './helpers';

/** 1-based column of `needle` in line `line` (1-based) of a fixture, so expectations stay readable */
function col(path: string, line: number, needle: string): number {
  const text = readFileSync(fixture(path), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[line - 1]!;
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not on line ${line}`);
  return at + 1;
}

describe('generic JSONL', () => {
  test('malformed JSON: line and column of the error, other rows still read', async () => {
    const ds = await loadDataset(fixture('generic/malformed.jsonl'));
    expect(ds.items.map((i) => i.id)).toEqual(['ok1', 'ok2']);
    expect(brief(ds.diagnostics)).toEqual([
      `2:${col('generic/malformed.jsonl', 2, '}')} error invalid JSON: unexpected '}'`,
      `3:38 error invalid JSON: expected ',' or '}' after property value, got end of line`,
      `4:${col('generic/malformed.jsonl', 4, '"question"')} error invalid JSON: expected ',' or '}' after property value, got '"'`,
      '5:1 error expected a JSON object on each line, got array',
      `7:${col('generic/malformed.jsonl', 7, "'question'")} error invalid JSON: expected a property name in double quotes, got '''`,
    ]);
    expect(ds.diagnostics[0]!.file).toBe(fixture('generic/malformed.jsonl'));
  });

  test('missing fields, wrong types, answers outside the choices, duplicate ids', async () => {
    const f = 'generic/fields.jsonl';
    const ds = await loadDataset(fixture(f));
    expect(brief(ds.diagnostics)).toEqual([
      "1:1 error row has neither a 'question' nor a 'prompt' (one is required)",
      `2:${col(f, 2, '"question"')} error field 'question' must be a string, got number`,
      `3:${col(f, 3, '"answer"')} error answer 3 is outside the 3 choices`,
      `4:${col(f, 4, '"answer"')} error answer "(c)" is outside the 2 choices`,
      `5:${col(f, 5, '"choices"')} error field 'choices' must be a JSON array of strings, e.g. ["yes","no"]; got "x,y"`,
      `7:${col(f, 7, '"id"')} error field 'id' must be a string or a number, got boolean`,
      `10:${col(f, 10, '"id"')} error duplicate id 'a3' (first at line 9)`,
    ]);
    expect(ds.diagnostics.find((d) => d.line === 3)).toMatchObject({ field: 'answer' });
    // row 6 repeats id a1, but row 3 (the first a1) was rejected, so row 6 is the first valid a1
    expect(ds.items.map((i) => [i.id, i.kind, i.answer])).toEqual([
      ['a1', 'generation', undefined],
      ['8', 'mcq', 1],
      ['a3', 'mcq', 1],
    ]);
    expect(ds.items[1]!.meta).toEqual({ topic: 't' });
    expect(ds.items[1]!.choiceLabels).toEqual(['(a)', '(b)']);
  });

  test('duplicate ids are errors', async () => {
    const ds = await loadDataset(fixture('generic/quoted.csv'));
    expect(brief(ds.diagnostics)).toContain("9:1 error duplicate id 'q1' (first at line 2)");
  });

  test('UTF-8 BOM and CRLF: no error, no stray \\r', async () => {
    const ds = await loadDataset(fixture('generic/bom-crlf.jsonl'));
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items).toHaveLength(2);
    expect(ds.items[0]).toMatchObject({ id: 'b1', answer: 0, choices: ['yes', 'no'] });
    expect(ds.items[1]!.fields).toEqual({ question: 'Second', context: 'ctx' });
    expect(JSON.stringify(ds.items)).not.toContain('\\r');
  });

  test('whitespace-only lines are skipped; ids default to the line number', async () => {
    const ds = await loadDataset(fixture('generic/blank-lines.jsonl'));
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items.map((i) => [i.id, i.source.line, i.kind])).toEqual([
      ['2', 2, 'generation'],
      ['5', 5, 'generation'],
    ]);
  });

  test('invalid UTF-8: a diagnostic at the bad byte, the rest is read', async () => {
    const ds = await loadDataset(fixture('generic/bad-utf8.jsonl'));
    expect(ds.items.map((i) => i.id)).toEqual(['u1', 'u4']);
    expect(ds.items[0]!.fields.question).toBe('fine é');
    expect(brief(ds.diagnostics)).toEqual([
      '2:31 error invalid UTF-8 byte sequence; the line was not read',
      '3:37 error invalid UTF-8 byte sequence; the line was not read',
    ]);
  });
});

describe('empty, missing and unreadable files', () => {
  test.each(['generic/empty.jsonl', 'generic/blank-only.jsonl'])('%s: exactly one error "file is empty"', async (p) => {
    const r = await validateDataset(fixture(p));
    expect(brief(r.diagnostics)).toEqual(['1:1 error file is empty']);
    await expect(loadDataset(fixture(p))).rejects.toMatchObject({ code: 'dataset' });
    // with the format named there is no detection step: the reader itself reports it
    const named = await loadDataset(fixture(p), { format: 'generic-jsonl' });
    expect(brief(named.diagnostics)).toEqual(['1:1 error file is empty']);
  });

  test('missing file and directory: SclabError(dataset) from load, a diagnostic from validate', async () => {
    for (const [p, reason] of [
      [fixture('generic/does-not-exist.jsonl'), 'file not found'],
      [FIXTURES, 'is a directory, not a file'],
    ] as const) {
      const err = await loadDataset(p, { format: 'generic-jsonl' }).catch((e: unknown) => e);
      expect(isSclabError(err) && err.code === 'dataset').toBe(true);
      expect((err as Error).message).toBe(`${p}: ${reason}`);
      const r = await validateDataset(p);
      expect(r.format).toBeNull();
      expect(brief(r.diagnostics)).toEqual([`1:1 error ${reason}`]);
    }
  });

  test('a header without rows is a warning', async () => {
    const r = await validateDataset(fixture('generic/header-only.csv'));
    expect(brief(r.diagnostics)).toEqual(['1:1 warning no data rows']);
  });

  test('abort signal stops the read with a cancelled error', async () => {
    const ac = new AbortController();
    ac.abort();
    const it = readDataset(fixture('generic/fields.jsonl'), { signal: ac.signal });
    await expect(it.next()).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('generic CSV / TSV', () => {
  test('quoted newlines and CRLF: records keep the line where they start', async () => {
    const f = 'generic/quoted.csv';
    const ds = await loadDataset(fixture(f));
    expect(ds.items.map((i) => [i.id, i.source.line, i.answer])).toEqual([
      ['q1', 2, 1],
      ['q2', 4, 0],
      ['q7', 12, 2],
    ]);
    expect(ds.items[0]!.fields).toEqual({ question: 'Line one\nline two, with comma', context: 'ctx' });
    expect(ds.items[0]!.choices).toEqual(['A1', 'B1', 'C1']);
    expect(ds.items[0]!.meta).toEqual({ topic: 't1' });
    expect(ds.items[1]!.choices).toEqual(['A2', 'B2']);
    expect(JSON.stringify(ds.items)).not.toContain('\\r');
    expect(brief(ds.diagnostics)).toEqual([
      `5:${col(f, 5, '(d)')} error answer "(d)" is outside the 3 choices`,
      "6:1 error choice column 'choice_b' is empty while a later choice is filled",
      "9:1 error duplicate id 'q1' (first at line 2)",
      '10:1 error row has 2 fields but the header has 8',
      '11:1 warning blank line skipped',
    ]);
  });

  test('choices as a JSON array string', async () => {
    const f = 'generic/json-choices.csv';
    const ds = await loadDataset(fixture(f));
    expect(ds.items).toHaveLength(1);
    expect(ds.items[0]).toMatchObject({ id: 'j1', kind: 'mcq', choices: ['red', 'blue'], answer: 1, fields: { prompt: 'Pick' } });
    expect(brief(ds.diagnostics)).toEqual([`3:${col(f, 3, '[oops')} error field 'choices' must be a JSON array of strings, e.g. ["yes","no"]; got "[oops"`]);
  });

  test('TSV with A/B letter columns; quotes inside cells are text', async () => {
    const ds = await loadDataset(fixture('generic/letters.tsv'));
    expect(ds.format).toBe('generic-tsv');
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items.map((i) => [i.id, i.fields.question, i.choices, i.answer, i.meta])).toEqual([
      ['2', 'Pick one', ['first', 'second'], 1, { note: 'n1' }],
      ['3', 'Another "quoted" one', ['alpha', 'beta'], 0, { note: 'n2' }],
    ]);
  });

  test('unclosed quote: an error at the record start, no crash', async () => {
    const ds = await loadDataset(fixture('generic/unclosed.csv'));
    expect(ds.items.map((i) => i.id)).toEqual(['u1']);
    expect(brief(ds.diagnostics)).toEqual(['3:1 error CSV syntax: Quote Not Closed: the parsing is finished with an opening quote']);
  });

  test('invalid UTF-8 in a CSV row', async () => {
    const ds = await loadDataset(fixture('generic/bad-utf8.csv'));
    expect(ds.items.map((i) => i.id)).toEqual(['v1', 'v3']);
    expect(brief(ds.diagnostics)).toEqual(['3:8 error invalid UTF-8 byte sequence; the row was not read']);
  });

  test('no question/prompt column: one error naming the columns', async () => {
    const r = await validateDataset(fixture('generic/no-question.csv'));
    expect(brief(r.diagnostics)).toEqual(["1:1 error no 'question' or 'prompt' column, so no row can become an item (columns: id, text)"]);
  });
});

describe('format-specific broken files', () => {
  test('BBQ JSONL', async () => {
    const f = 'bbq/Broken.jsonl';
    const ds = await loadDataset(fixture(f));
    expect(ds.items.map((i) => [i.id, (i.meta as { targetIndex: unknown }).targetIndex])).toEqual([
      ['Religion/0', 2],
      ['Religion/4', null],
    ]);
    expect(brief(ds.diagnostics)).toEqual([
      "2:1 error missing field 'question'",
      `3:${col(f, 3, '"label"')} error field 'label' must be 0, 1 or 2, got 5`,
      `4:${col(f, 4, '"answer_info"')} error answer_info must tag exactly one option 'unknown', found 0`,
      `5:${col(f, 5, '"additional_metadata"')} warning no target answer: no non-unknown option names a stereotyped group (Hindu)`,
      `6:${col(f, 6, '"example_id"')} error duplicate id 'Religion/0' (first at line 1)`,
      `7:${col(f, 7, '"example_id"')} error field 'example_id' must be an integer, got string`,
    ]);
  });

  test('BBQ ambiguous TSV', async () => {
    const f = 'bbq_ambig/bbq.Test.txt';
    const ds = await loadDataset(fixture(f));
    expect(ds.format).toBe('bbq-ambig-tsv');
    expect(ds.items.map((i) => [i.id, i.answer, (i.meta as { targetIndex: unknown }).targetIndex, i.choices])).toEqual([
      ['Test/1', 1, 0, ['The poor man', 'Unknown', 'The rich man']],
      ['Test/5', 1, null, ['Kenneth', 'Not enough information', 'Helen']],
      ['Test/6', 1, 0, ['The Black man', "Can't be determined", 'The European man (d) x']],
    ]);
    expect(brief(ds.diagnostics)).toEqual([
      `2:${col(f, 2, '(a)')} error column 3 must look like "(a) … (b) … (c) …", got "(a) Donna (b) Unknown"`,
      `3:${col(f, 3, '(d)')} error column 4 must be (a), (b) or (c), got "(d)"`,
      '4:1 error expected 5 tab-separated columns (context, question, options, answer, groups), got 3',
      `5:${col(f, 5, '\tF') + 1} warning no target answer: no option names the target group (F)`,
    ]);
  });

  test('RealToxicityPrompts', async () => {
    const f = 'rtp/broken.jsonl';
    const ds = await loadDataset(fixture(f));
    expect(ds.items.map((i) => i.id)).toEqual(['a.txt:0']);
    expect((ds.items[0]!.meta.continuation as { scores: Record<string, unknown> }).scores.threat).toBeNull();
    expect(brief(ds.diagnostics)).toEqual([
      `2:${col(f, 2, '"prompt"')} error missing field 'prompt.text'`,
      `3:${col(f, 3, '"prompt"')} error field 'prompt.toxicity' must be a number or null, got string`,
      `4:${col(f, 4, '"begin"')} error duplicate id 'a.txt:0' (first at line 1)`,
      `5:${col(f, 5, '"challenging"')} error field 'challenging' must be true or false, got string`,
    ]);
  });

  test('Winogender templates and sentences', async () => {
    const t = await loadDataset(fixture('winogender_broken/templates.tsv'));
    expect(t.items.map((i) => [i.id, i.fields.sentence, i.meta.pronounSlot])).toEqual([
      ['nurse.patient.0', 'The nurse told the patient that _ was ready.', 'nom'],
      ['nurse.patient.1', 'The nurse gave the patient _ medicine.', 'poss'],
    ]);
    expect(t.items[0]!.meta).not.toHaveProperty('pctFemaleBls'); // no occupations-stats.tsv in that folder
    expect(brief(t.diagnostics).map((l) => l.replace(/ \(\$NOM.*$/, ''))).toEqual([
      '4:12 error answer must be 0 or 1, got "2"',
      '4:14 error sentence must contain exactly one pronoun slot',
      '5:14 error sentence must contain exactly one pronoun slot',
      '6:1 error expected 4 tab-separated columns (occupation, participant, answer, sentence), got 2',
    ]);
    const s = await loadDataset(fixture('winogender_broken/all_sentences.tsv'));
    expect(s.items.map((i) => [i.id, i.fields.sentence])).toEqual([
      ['nurse.patient.0.female', 'The nurse told the patient that _ was ready.'],
      ['nurse.someone.0.neutral', 'The nurse told someone that _ were ready.'],
      ['nurse.patient.1.male', 'The nurse gave the patient _ medicine.'],
      ['chef.guest.0.male', 'The chef said _ cooked.'],
    ]);
    expect(brief(s.diagnostics)).toEqual([
      '5:28 error sentence does not match its template (templates.tsv line 3); cannot find the pronoun',
      '6:1 error sentid "badid" is not <occupation>.<participant|someone>.<0|1>.<male|female|neutral>.txt',
      "7:1 error duplicate id 'nurse.patient.0.female' (first at line 2)",
      '8:1 warning no template for chef with answer 0; pronoun found by search',
    ]);
  });
});
