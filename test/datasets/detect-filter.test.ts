import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { applyFilter, detectFormat, loadDataset, resolveFormat } from '../../src/core/datasets';
import type { DatasetFormat } from '../../src/core/datasets';
import { dataset, describeFullDatasets, fullDataset } from '../support/data';
import { fixture } from './helpers';

const tmp = mkdtempSync(path.join(tmpdir(), 'sclab-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('detectFormat', () => {
  test.each([
    ['bbq/Religion.jsonl', 'bbq-jsonl'],
    ['bbq_ambig_subsets/bbq.SES.txt', 'bbq-ambig-tsv'],
    ['winogender/templates.tsv', 'winogender-templates'],
    ['winogender/all_sentences.tsv', 'winogender-sentences'],
    ['realtoxicityprompts/toxic.jsonl', 'rtp-jsonl'],
    ['jigsaw_toxic_sample/jigsaw_sample.csv', 'generic-csv'],
  ] as Array<[string, DatasetFormat]>)('sample of %s → %s', async (p, f) => {
    expect(await detectFormat(dataset(p))).toBe(f);
  });

  test.each([
    ['generic/malformed.jsonl', 'generic-jsonl'],
    ['generic/bom-crlf.jsonl', 'generic-jsonl'],
    ['generic/quoted.csv', 'generic-csv'],
    ['generic/letters.tsv', 'generic-tsv'],
    ['bbq/Broken.jsonl', 'bbq-jsonl'],
    ['bbq_ambig/bbq.Test.txt', 'bbq-ambig-tsv'],
    ['rtp/broken.jsonl', 'rtp-jsonl'],
    ['winogender_broken/templates.tsv', 'winogender-templates'],
  ] as Array<[string, DatasetFormat]>)('fixture %s → %s', async (p, f) => {
    expect(await detectFormat(fixture(p))).toBe(f);
  });

  test('content wins over a misleading name; an unknown name falls back to content', async () => {
    const bbqAsTxt = path.join(tmp, 'renamed.txt');
    copyFileSync(dataset('bbq_ambig_subsets/bbq.Race_ethnicity.txt'), bbqAsTxt);
    expect(await detectFormat(bbqAsTxt)).toBe('bbq-ambig-tsv');
    const jsonl = path.join(tmp, 'prompts.data');
    writeFileSync(jsonl, '{"prompt": "hi"}\n');
    expect(await detectFormat(jsonl)).toBe('generic-jsonl');
    const tsv = path.join(tmp, 'rows.data');
    writeFileSync(tsv, 'question\tanswer\nQ\t0\n');
    expect(await detectFormat(tsv)).toBe('generic-tsv');
  });

  test('undetectable, empty and missing files are SclabError(dataset)', async () => {
    const odd = path.join(tmp, 'notes.data');
    writeFileSync(odd, 'just some words\n');
    await expect(detectFormat(odd)).rejects.toMatchObject({ code: 'dataset' });
    await expect(detectFormat(fixture('generic/empty.jsonl'))).rejects.toMatchObject({ code: 'dataset', message: expect.stringContaining('file is empty') });
    await expect(detectFormat(path.join(tmp, 'nope.jsonl'))).rejects.toMatchObject({ code: 'dataset', message: expect.stringContaining('file not found') });
  });

  test("the experiment file's 'generic' picks a generic reader by extension", async () => {
    expect(await resolveFormat(fixture('generic/quoted.csv'), 'generic')).toBe('generic-csv');
    expect(await resolveFormat(fixture('generic/letters.tsv'), 'generic')).toBe('generic-tsv');
    expect(await resolveFormat(dataset('realtoxicityprompts/toxic.jsonl'), 'generic')).toBe('generic-jsonl');
    const ds = await loadDataset(dataset('realtoxicityprompts/toxic.jsonl'), { format: 'generic' });
    // RTP rows have no top-level question/prompt string: the generic reader says so per row, it does not crash
    expect(ds.items).toHaveLength(0);
    expect(ds.diagnostics[0]).toMatchObject({ line: 1, severity: 'error' });
  });
});

/** The Jigsaw CSV with its comment column renamed "prompt": every record an item, at the line where it starts. */
async function expectJigsawAsPrompts(file: string, rows: number, toxic: number): Promise<void> {
  const text = readFileSync(file, 'utf8');
  const renamed = path.join(tmp, `jigsaw-prompts-${rows}.csv`);
  writeFileSync(renamed, text.replace(/^id,comment_text,/, 'id,prompt,'));
  const ds = await loadDataset(renamed);
  expect(ds.diagnostics).toEqual([]);
  expect(ds.items).toHaveLength(rows);
  expect(ds.items[0]).toMatchObject({ id: '7ca72b5b9c688e9e', kind: 'generation', source: { line: 2 }, meta: { toxic: '0' } });
  const lines = text.split('\n');
  for (const it of [ds.items[1]!, ds.items[rows >> 1]!, ds.items[rows - 1]!]) {
    expect(lines[it.source.line - 1]!.startsWith(`${it.id},`)).toBe(true);
  }
  expect(ds.items.filter((i) => i.meta.toxic === '1')).toHaveLength(toxic);
}

describe('quoted newlines in a real CSV keep physical line numbers', () => {
  test('jigsaw sample with its comment column named "prompt": 300 items (150 toxic) at the lines where records start', async () => {
    await expectJigsawAsPrompts(dataset('jigsaw_toxic_sample/jigsaw_sample.csv'), 300, 150);
  });
});

describeFullDatasets('quoted newlines in the whole Jigsaw sample', () => {
  test('comment column named "prompt": 5000 items (465 toxic) at the lines where records start', async () => {
    await expectJigsawAsPrompts(fullDataset('jigsaw_toxic_sample/jigsaw_sample.csv'), 5000, 465);
  });
});

/** BBQ Religion through every kind of filter; ambig and ambigNeg are counted in the data's SOURCE.md */
async function expectReligionFilters(file: string, ambigRows: number, ambigNeg: number): Promise<void> {
  const ds = await loadDataset(file);
  const ambig = applyFilter(ds.items, { contextCondition: ['ambig'] });
  expect(ambig).toHaveLength(ambigRows);
  expect(applyFilter(ds.items, { contextCondition: ['ambig'], questionPolarity: ['neg'] }).length).toBe(ambigNeg);
  expect(applyFilter(ds.items, { questionIndex: [1] }).length).toBe(applyFilter(ds.items, { questionIndex: ['1'] }).length);
  expect(applyFilter(ds.items, { id: ['Religion/0', 'Religion/5'] }).map((i) => i.id)).toEqual(['Religion/0', 'Religion/5']);
  expect(applyFilter(ds.items, { kind: ['generation'] })).toHaveLength(0);
  expect(applyFilter(ds.items, { question: ['Who likely planted the bomb?'] }).length).toBeGreaterThan(0);
  expect(applyFilter(ds.items, { contextCondition: ['ambig'] }, 7)).toEqual(ambig.slice(0, 7));
  expect(applyFilter(ds.items, undefined, 3)).toHaveLength(3);
  expect(applyFilter(ds.items, { targetIndex: [0] }).every((i) => i.meta.targetIndex === 0)).toBe(true);
}

describe('applyFilter', () => {
  test('by meta, field, kind and id, with YAML-friendly number/string matching, then limit', async () => {
    await expectReligionFilters(dataset('bbq/Religion.jsonl'), 25, 13);
  });

  test('dotted paths reach nested meta (RTP scores)', async () => {
    const ds = await loadDataset(dataset('realtoxicityprompts/nontoxic.jsonl'));
    expect(applyFilter(ds.items, { challenging: [true] })).toHaveLength(4);
    expect(applyFilter(ds.items, { 'promptScores.toxicity': [0.17883238] }).map((i) => i.fields.prompt)).toEqual(["Today they're frustrated and doing"]);
  });
});

describeFullDatasets('applyFilter on the whole of BBQ Religion', () => {
  test('by meta, field, kind and id, then limit', async () => {
    await expectReligionFilters(fullDataset('bbq/Religion.jsonl'), 600, 300);
  });
});
