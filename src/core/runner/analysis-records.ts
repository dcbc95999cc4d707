// The records as analysis reads them: one streaming pass over records.jsonl that keeps, per record, only the fields
// the analysis reads, so that a million records fit in bounded memory. What is kept per record (the smallest state
// that gives every statistic exactly, medians and item bootstraps included, which need per-item values):
// - itemId, condition, round, answer, correct, error, cached, latencyMs, finishReason, optionScores, probes, scores
//   (strings that repeat, such as item ids, condition names, labels and error messages, are shared, not copied);
// - the gold rank the record's top-k alternatives give (computed at read time with the item, then remembered by
//   goldRankOf) instead of the alternatives themselves;
// - the response only where something reads it: generation runs (the superficiality test's edit distances), the
//   CSV export and the viewer (sample search, item pages).
// Dropped: messages and prefill (the conversation, most of a line's bytes), request tallies, attempts, timestamps.
// The viewer reads those for one item at a time from the file, by the byte offsets `offsets` collects.
import { goldRankOf, rememberGoldRank } from '../analysis/goldRank';
import type { Item } from '../model/item';
import type { RoundRecord } from '../model/record';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { forEachRecord, parseRecordLine, RECORDS_FILE } from './store';

export interface AnalysisRecordsOptions {
  /** keep each record's response text (default false) */
  responses?: boolean;
  /** collect itemId → byte ranges of its lines in records.jsonl */
  offsets?: boolean;
}

export interface AnalysisRecords {
  records: RoundRecord[];
  tornBytes: number;
  /** itemId → [offset, bytes] of each of its lines, in file order (when asked for) */
  offsets?: Map<string, Array<[number, number]>>;
}

/** the dropped conversation: one shared, frozen empty list rather than one per record */
const NO_MESSAGES: RoundRecord['messages'] = Object.freeze([]) as unknown as RoundRecord['messages'];

/** The run's records, slimmed for analysis in one streaming pass (see the top of this file for what is kept). */
export async function readAnalysisRecords(runDir: string, items: readonly Item[], opts: AnalysisRecordsOptions = {}): Promise<AnalysisRecords> {
  const itemById = new Map(items.map((i) => [i.id, i]));
  const strings = new Map<string, string>();
  const share = (s: string): string => {
    const seen = strings.get(s);
    if (seen !== undefined) return seen;
    // a bounded table: past it, strings are kept as they are (still correct, only less shared)
    if (strings.size < 1_000_000) strings.set(s, s);
    return s;
  };
  const answers = new Map<string, RoundRecord['answer']>();
  const shareAnswer = (a: RoundRecord['answer'] | undefined): RoundRecord['answer'] | undefined => {
    if (!a) return a;
    const key = `${a.index}\u0000${a.label}`;
    let seen = answers.get(key);
    if (!seen) answers.set(key, (seen = { index: a.index, label: share(a.label) }));
    return seen;
  };
  const records: RoundRecord[] = [];
  const offsets = opts.offsets ? new Map<string, Array<[number, number]>>() : undefined;
  const { tornBytes } = await forEachRecord(runDir, (r, at) => {
    const slim: RoundRecord = {
      itemId: share(r.itemId),
      condition: share(r.condition),
      round: r.round,
      messages: NO_MESSAGES,
      prefill: '',
      response: opts.responses ? r.response : '',
      answer: shareAnswer(r.answer) ?? null,
      correct: r.correct,
      latencyMs: r.latencyMs,
      attempts: r.attempts,
      cached: r.cached,
      at: '',
    };
    if (r.answerFirstOption !== undefined) slim.answerFirstOption = shareAnswer(r.answerFirstOption) ?? null;
    if (r.finishReason !== undefined) slim.finishReason = share(r.finishReason);
    if (r.optionScores) slim.optionScores = r.optionScores;
    if (r.probes) slim.probes = r.probes;
    if (r.scores) {
      const scores: NonNullable<RoundRecord['scores']> = {};
      for (const [k, s] of Object.entries(r.scores)) scores[share(k)] = { ...s, scorer: share(s.scorer), version: share(s.version) };
      slim.scores = scores;
    }
    if (r.error) slim.error = { code: share(r.error.code), message: share(r.error.message) };
    // the alternatives go; the rank they give stays, computed exactly as the analysis would
    if (r.topLogprobs) rememberGoldRank(slim, goldRankOf(r, itemById.get(r.itemId)));
    records.push(slim);
    if (offsets) {
      let list = offsets.get(slim.itemId);
      if (!list) offsets.set(slim.itemId, (list = []));
      list.push([at.offset, at.bytes]);
    }
  });
  return { records, tornBytes, ...(offsets ? { offsets } : {}) };
}

/** The whole records at the given byte ranges of records.jsonl (one item's lines, from `offsets`), checked as on any read. */
export async function readRecordsAt(runDir: string, ranges: ReadonlyArray<readonly [number, number]>): Promise<RoundRecord[]> {
  const file = path.join(runDir, RECORDS_FILE);
  const fh = await fs.open(file, 'r');
  try {
    const out: RoundRecord[] = [];
    for (const [offset, bytes] of ranges) {
      const buf = Buffer.alloc(bytes);
      await fh.read(buf, 0, bytes, offset);
      out.push(parseRecordLine(file, `byte ${offset}`, buf.toString('utf8').trimEnd()));
    }
    return out;
  } finally {
    await fh.close();
  }
}
