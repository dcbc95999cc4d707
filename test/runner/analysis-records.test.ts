// The streaming read of records.jsonl into a RecordTable that analysis uses (analysis-records.ts, recordTable.ts) must
// give exactly the numbers the whole records give: the full summary, the CSV, the comparison of two runs and an
// item's page.
import { promises as fs, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRun, type FullSummary } from '../../src/core/analysis/analyze';
import { compareRuns } from '../../src/core/analysis/compare';
import { probeNames, resolveBands } from '../../src/core/analysis/probes';
import { cell, indexRun, roundsOf } from '../../src/core/analysis/runIndex';
import type { RoundRecord } from '../../src/core/model/record';
import { recordsToCsv } from '../../src/core/report/csv';
import { readAnalysisRecords, readRecordsAt } from '../../src/core/runner/analysis-records';
import { RecordTable } from '../../src/core/analysis/recordTable';
import { readItems, readManifest, readRecords, readResumeState } from '../../src/core/runner/store';
import { itemDetail, itemText } from '../../src/core/viewer/pages';
import type { SamplesResult } from '../../src/core/viewer/protocol';
import { createViewerService } from '../../src/core/viewer/service';
import { writeSyntheticRun } from '../viewer/syntheticRun';

/**
 * A synthetic paper-bbq-shaped run, varied so that every kept field matters: several conditions and rounds, probes,
 * top-k ranks, censored label-logprob ranks, exact ranks with token counts, errors, unparsed answers, first-option
 * readings, toxicity scores under two keys (one failed), cached rows, finish reasons, an unknown item, a duplicate.
 */
async function variedRun(seed: number, strays = true): Promise<string> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-slim-')), 'run');
  await writeSyntheticRun(dir, { items: 40, rounds: 3, layers: 8, variants: 2, seed });
  const file = path.join(dir, 'records.jsonl');
  const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
  const varied = lines.map((line, i) => {
    const r = JSON.parse(line) as RoundRecord;
    if (i % 3 === 0) {
      // no exact ranks: the approximate rank comes from the top-k alternatives
      delete r.optionScores;
      r.topLogprobs = [
        [{ token: ' ', logprob: -0.1 }],
        [
          { token: '(', logprob: -0.2 },
          { token: 'a', logprob: -1 - (i % 5) / 10 },
          { token: 'c', logprob: -1.2 },
          { token: 'b', logprob: -2 },
        ],
      ];
    }
    if (i % 11 === 0) {
      r.error = { code: i % 2 ? 'timeout' : 'http_5xx', message: `request ${i} failed` };
      r.answer = null;
      r.correct = null;
    }
    if (i % 4 === 0) r.scores = { toxicity: { value: (i % 10) / 10, scorer: 'perspective', version: 'v1' } };
    if (i % 7 === 0) r.cached = true;
    if (i % 9 === 4 && !r.error) {
      r.answer = null;
      r.correct = false;
    }
    if (i % 13 === 5 && r.optionScores) r.optionScores = { method: 'label-logprob', logprobs: [-0.5, null, -2], goldRank: 3 };
    if (i % 13 === 7 && r.optionScores) r.optionScores = { ...r.optionScores, method: 'exact', tokenCounts: [2, 3, 1], aggregate: 'mean' };
    if (i % 6 === 1) r.answerFirstOption = i % 12 === 1 ? null : r.answer;
    if (i % 8 === 3) r.finishReason = i % 16 === 3 ? 'stop' : 'length';
    if (i % 10 === 2) r.scores = { toxicity: { value: i % 20 === 2 ? null : (i % 7) / 7, scorer: 'perspective', version: 'v1', ...(i % 20 === 2 ? { error: 'quota' } : {}) }, 'toxicity-offline': { value: (i % 5) / 5, scorer: 'detoxify', version: '0.5' } };
    return JSON.stringify(r);
  });
  // a record of an item the plan does not have, and a second line for a cell's item (the later one wins)
  if (strays) {
    varied.push(JSON.stringify({ ...(JSON.parse(lines[1]!) as RoundRecord), itemId: 'not-planned' }));
    varied.push(JSON.stringify({ ...(JSON.parse(lines[2]!) as RoundRecord), correct: false, answer: null }));
  }
  await fs.writeFile(file, varied.join('\n') + '\n');
  return dir;
}

describe('analysis from the streaming, slimmed read', () => {
  it('gives the same summary, CSV, comparison and item page as the whole records', async () => {
    const a = await variedRun(3);
    const b = await variedRun(5);
    const load = async (dir: string) => {
      const manifest = await readManifest(dir);
      const items = await readItems(dir);
      const full = (await readRecords(dir)).records;
      const slim = await readAnalysisRecords(dir, items, { responses: true, offsets: true });
      const lean = await readAnalysisRecords(dir, items);
      return { manifest, items, full, slim, lean };
    };
    const ra = await load(a);
    const rb = await load(b);
    expect(ra.slim.table.size).toBe(ra.full.length);
    expect([...ra.slim.table.records()].some((r) => r.messages.length > 0 || r.topLogprobs)).toBe(false);

    const opts = { bootstrap: { resamples: 200, seed: 4 } };
    const whole = analyzeRun(ra.full, ra.items, ra.manifest.experiment, opts);
    expect(whole.transitions?.length).toBeGreaterThan(0);
    expect(whole.errors).toBeGreaterThan(0);
    // the variety is there: censored ranks, unparsed answers, failed and second scores, probes, an unknown item
    expect(whole.cells.some((c) => c.censoredRanks > 0)).toBe(true);
    expect(whole.cells.some((c) => c.parsed < c.records - c.errors)).toBe(true);
    expect(whole.scoreKeys?.map((k) => k.key)).toEqual(['toxicity', 'toxicity-offline']);
    expect(Object.values(whole.conditions).some((c) => c.rounds.some((r) => r.toxicity && r.toxicity.failed > 0))).toBe(true);
    expect(whole.probeBands?.length).toBeGreaterThan(0);
    expect(whole.superficiality?.length).toBeGreaterThan(0);
    expect(whole.unknownItems).toBe(1);
    expect(analyzeRun(ra.slim.table, ra.items, ra.manifest.experiment, opts)).toEqual(whole);
    expect(analyzeRun(ra.lean.table, ra.items, ra.manifest.experiment, opts)).toEqual(whole);
    // the table's rows, read back as records, are the whole records less what analysis does not keep
    const rows = [...ra.slim.table.records()];
    expect(rows.map((r) => ({ ...r, messages: [], prefill: '', at: '' }))).toEqual(ra.full.map(({ topLogprobs: _t, generatedTokens: _g, requests: _q, ...r }) => ({ ...r, messages: [], prefill: '', at: '' })));

    expect(recordsToCsv(ra.slim.table, ra.items, ra.manifest.experiment)).toBe(recordsToCsv(ra.full, ra.items, ra.manifest.experiment));

    // the items as analysis reads them (no template text), as `report`, `compare` and a run's summary.json read them
    const statItems = await readItems(a, { forAnalysis: true });
    expect(statItems.map((i) => i.id)).toEqual(ra.items.map((i) => i.id));
    expect(statItems.every((i) => Object.keys(i.fields).length === 0)).toBe(true);
    expect(ra.items.every((i) => Object.keys(i.fields).length > 0)).toBe(true);
    const statTable = (await readAnalysisRecords(a, statItems, { rows: ra.full.length, responses: true })).table;
    expect(analyzeRun(statTable, statItems, ra.manifest.experiment, opts)).toEqual(whole);
    expect(recordsToCsv(statTable, statItems, ra.manifest.experiment)).toBe(recordsToCsv(ra.full, ra.items, ra.manifest.experiment));
    const statB = await readItems(b, { forAnalysis: true });
    expect(compareRuns(statTable.index(statItems, ra.manifest.experiment), (await readAnalysisRecords(b, statB)).table.index(statB, rb.manifest.experiment), opts.bootstrap)).toEqual(
      compareRuns(indexRun(ra.full, ra.items, ra.manifest.experiment), indexRun(rb.full, rb.items, rb.manifest.experiment), opts.bootstrap),
    );
    // the summary a finished run writes (summary.json, read with these items) is the same analysis
    const written = createViewerService({ runDir: a, analysis: opts });
    expect(await written.call('ranks')).toEqual(await createViewerService({ runDir: a, analysis: opts, cache: false, items: ra.items }).call('ranks'));

    const ix = (recs: RoundRecord[], r: typeof ra) => indexRun(recs, r.items, r.manifest.experiment);
    expect(compareRuns(ra.lean.table.index(ra.items, ra.manifest.experiment), rb.lean.table.index(rb.items, rb.manifest.experiment), opts.bootstrap)).toEqual(compareRuns(ix(ra.full, ra), ix(rb.full, rb), opts.bootstrap));

    // an item's page: its whole lines come back from the byte offsets
    const itemId = ra.items[6]!.id;
    const lines = await readRecordsAt(a, ra.slim.offsets!.get(itemId));
    expect(lines).toEqual(ra.full.filter((r) => r.itemId === itemId));
    const bands = resolveBands(ix(ra.full, ra), probeNames(ra.full), ra.manifest.experiment);
    const expected = itemDetail(ix(ra.full, ra), itemId, bands, 'cosine');
    expect(expected?.conditions[0]?.rounds[0]?.user).toContain('grandfather');
    expect(expected?.conditions[0]?.rounds[0]?.prefill).toBe('The answer is');
    expect(await createViewerService({ runDir: a, cache: false }).call('item', { itemId })).toEqual(expected);
  });

  it('keeps values of any size exactly in its narrow integer columns (widened as they grow: one byte, two, four)', () => {
    const table = new RecordTable();
    const made: RoundRecord[] = [];
    // 150 cells, 10,000 distinct error messages, 400 finish reasons, attempts past 65,535, ranks and option lists past 127
    for (let i = 0; i < 40_000; i++) {
      const r: RoundRecord = {
        itemId: `i${i % 300}`,
        condition: `c${i % 150}`,
        round: i % 3,
        messages: [],
        prefill: '',
        response: '',
        answer: i % 5 === 0 ? null : { index: i % 7, label: `(${String.fromCharCode(97 + (i % 7))})` },
        correct: i % 5 === 0 ? null : i % 2 === 0,
        latencyMs: i / 7,
        attempts: i < 20_000 ? 1 + (i % 3) : 70_000 + i,
        cached: false,
        at: '',
        ...(i % 4 === 1 ? { error: { code: 'http_5xx', message: `failure ${i}` } } : {}),
        ...(i % 4 === 2 ? { optionScores: { method: 'exact' as const, logprobs: Array.from({ length: 2 + (i % 200) }, (_, k) => -k / 3), goldRank: 1 + (i % 200) } } : {}),
        ...(i % 6 === 0 ? { finishReason: `reason-${i % 400}` } : {}),
      };
      made.push(r);
      table.add(r);
    }
    expect([...table.records()]).toEqual(made);
  });

  it('gives the same numbers, bootstrap intervals included, whatever order the records were written in', async () => {
    // under concurrency the lines of records.jsonl follow the order requests finished in; the items a bootstrap
    // draws are read in the plan's order, so the same records give the same summary
    const dir = await variedRun(5, false);
    const file = path.join(dir, 'records.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    // two unplanned items (ordered by id after the planned ones) in different places
    const stray = (id: string, k: number) => JSON.stringify({ ...(JSON.parse(lines[k]!) as RoundRecord), itemId: id });
    const withStrays = [stray('zz-not-planned', 4), ...lines, stray('aa-not-planned', 9)];
    const items = await readItems(dir);
    const manifest = await readManifest(dir);
    const opts = { bootstrap: { resamples: 200, seed: 3 } };
    const summaries = [];
    for (const order of [withStrays, [...withStrays].reverse(), withStrays.map((l, i) => [l, (i * 7919) % withStrays.length] as const).sort((a, b) => a[1] - b[1]).map(([l]) => l)]) {
      await fs.writeFile(file, order.join('\n') + '\n');
      const { table } = await readAnalysisRecords(dir, items);
      const fromTable = analyzeRun(table, items, manifest.experiment, opts);
      expect(analyzeRun((await readRecords(dir)).records, items, manifest.experiment, opts)).toEqual(fromTable);
      summaries.push(fromTable);
    }
    // the check has teeth: intervals that a different draw would move
    expect(summaries[0]!.rankSplit!.some((r) => r.rounds.some((x) => x.ci !== null && x.ci.lo !== x.ci.hi))).toBe(true);
    // the one-pass tables (per-cell counts and latency, score keys side by side) list cells as the file first names
    // them and sum in file order (equal to within rounding); every statistic over items is equal exactly
    const overItems = (s: FullSummary) => ({ ...s, cells: undefined, scoreKeys: undefined });
    expect(overItems(summaries[1]!)).toEqual(overItems(summaries[0]!));
    expect(overItems(summaries[2]!)).toEqual(overItems(summaries[0]!));
  });

  it('keeps option log-probabilities and latencies exactly through every storage shape', () => {
    // the log-probabilities: rows of one option count (stored at row × count), rows without option scores between
    // them, then a row with another count (a start and length per row from there on), past the rows expected;
    // latencies: whole tenths (stored as integers), and values that are not (kept exactly on the side)
    const make = (i: number): RoundRecord => ({
      itemId: `i${i % 7}`,
      condition: 'baseline',
      round: i % 2,
      messages: [],
      prefill: '',
      response: '',
      answer: null,
      correct: null,
      latencyMs: [82.2, 0, 4000.7, 1 / 3, -0, 1e12, 2 ** 40 + 0.5, 123456789.1][i % 8]!,
      attempts: 1,
      cached: false,
      at: '',
      ...(i % 5 === 4 ? {} : { optionScores: { method: 'label-logprob' as const, logprobs: Array.from({ length: i < 30 ? 3 : 2 + (i % 4) }, (_, k) => (k === 1 && i % 3 === 0 ? null : -k - i / 7)), goldRank: 1 } }),
    });
    for (const rows of [0, 10, 40, 1000]) {
      const table = new RecordTable({ rows });
      const made = Array.from({ length: 40 }, (_, i) => make(i));
      for (const r of made) table.add(r);
      expect([...table.records()]).toEqual(made);
      expect(Object.is(table.record(4).latencyMs, -0)).toBe(true);
    }
    // a first row without options, then rows with three
    const zero = new RecordTable({ rows: 5 });
    const first: RoundRecord = { ...make(0), optionScores: { method: 'exact', logprobs: [], goldRank: null } };
    zero.add(first);
    for (let i = 1; i < 5; i++) zero.add(make(i));
    expect([...zero.records()]).toEqual([first, make(1), make(2), make(3), make(4)]);
  });

  it('holds the same rows when told how many to expect: exactly, too few, or more than the file can hold', async () => {
    const dir = await variedRun(3);
    const items = await readItems(dir);
    const manifest = await readManifest(dir);
    const grown = await readAnalysisRecords(dir, items);
    const rowsOf = (t: typeof grown.table) => [...t.records()];
    const opts = { bootstrap: { resamples: 100, seed: 2 } };
    for (const rows of [grown.table.size, 3, 1e12]) {
      const sized = await readAnalysisRecords(dir, items, { rows });
      expect(sized.table.size).toBe(grown.table.size);
      expect(rowsOf(sized.table)).toEqual(rowsOf(grown.table));
      expect(analyzeRun(sized.table, items, manifest.experiment, opts)).toEqual(analyzeRun(grown.table, items, manifest.experiment, opts));
    }
  });

  it('filters the samples by text in the answers, which it reads from the file, as over the whole records', async () => {
    const dir = await variedRun(3);
    const items = await readItems(dir);
    const full = indexRun((await readRecords(dir)).records, items, (await readManifest(dir)).experiment);
    // the search text of a row as the whole records give it: item id, item text, the answers of its rounds
    const expected = (text: string) => {
      const out: string[] = [];
      for (const c of full.conditions) {
        const rounds = roundsOf(full, c);
        const ids = new Set(rounds.flatMap((r) => [...cell(full, c, r).keys()]));
        for (const id of ids) {
          const answers = rounds.map((r) => cell(full, c, r).get(id)?.response ?? '').join(' ');
          if (`${id} ${itemText(full.items.get(id))} ${answers}`.toLowerCase().includes(text)) out.push(`${id}/${c}`);
        }
      }
      return out.sort();
    };
    const svc = createViewerService({ runDir: dir, cache: false });
    const rows = async (text: string) => {
      const got: string[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = (await svc.call('samples', { offset, limit: 500, filter: { text } })) as SamplesResult;
        got.push(...page.rows.map((r) => `${r.itemId}/${r.condition}`));
        if (offset + 500 >= page.total) return got.sort();
      }
    };
    // only in answers; across two rounds' answers; across the item text and the first answer; in the item text
    for (const text of ['reconsidered', 'question.  (b)', 'phone?  (', 'item 7)']) {
      const want = expected(text.toLowerCase());
      expect(want.length, text).toBeGreaterThan(0);
      expect(await rows(text), text).toEqual(want);
    }
  });

  it('reads what a resume needs: complete chains as keys, the rounds of unfinished ones, counts', async () => {
    const dir = await variedRun(9, false);
    const file = path.join(dir, 'records.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    // item 0's self-correct chain (rounds 0-2) loses its last round; a torn line follows
    const cut = lines.filter((l) => !(l.includes('"itemId":"bbq-00000"') && l.includes('"condition":"self-correct"') && l.includes('"round":2')));
    await fs.writeFile(file, cut.join('\n') + '\n{"itemId":"bbq-0');
    const rounds = new Map([['baseline', 1], ['self-correct', 3], ['variant-1', 1], ['variant-2', 1]]);
    const state = await readResumeState(dir, (c) => rounds.get(c));
    expect(state.tornBytes).toBe(16);
    expect(state.counts.recorded).toBe(cut.length);
    expect(state.counts.errors).toBe(cut.filter((l) => l.includes('"error":{')).length);
    expect(state.complete.size).toBe(40 * 4 - 1);
    expect([...state.partial.keys()]).toEqual(['bbq-00000\u0000self-correct']);
    expect([...state.partial.get('bbq-00000\u0000self-correct')!.keys()]).toEqual([0, 1]);
  });
});
