// `sclab scorer rescore`: scores a finished run's responses again with another scorer (e.g. offline, once the
// Perspective API is gone) and writes the new scores under a new key next to the old ones — never over them — so
// the two can be compared record by record and in the viewer.
//
// Crash-safe and resumable: scores go first to a journal (rescore-<key>.partial.jsonl, one fsynced line per batch);
// a rerun with the same scorer picks up from it. Only when every response is scored is records.jsonl replaced, in
// one atomic rename, and the scorer's card added to the manifest. A rerun after a crash between those two steps
// finds every record scored by this scorer and only finishes the manifest.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SclabError } from '../model/errors';
import type { ScorerCard } from '../model/manifest';
import type { ResponseScore } from '../model/record';
import { acquireRunLock, releaseRunLock } from '../runner/run-lock';
import { MANIFEST_FILE, readManifest, RECORDS_FILE, recordKey, writeFileAtomic } from '../runner/store';
import { chunks, isBlank, type Scorer } from './scorer';

export const RESCORE_JOURNAL_SCHEMA = 'sclab.rescore/1';
const KEY_RE = /^[A-Za-z0-9_.-]+$/;
/** the score key analysis reads as a generation run's output metric */
const MAIN_KEY = 'toxicity';

export interface RescoreOptions {
  runDir: string;
  scorer: Scorer;
  /**
   * the new key in each record's scores; must not hold another scorer's numbers. Default: "toxicity" when no record
   * has it (a run made without a scorer gets its output metric), else "toxicity-<scorer kind>"
   */
  key?: string;
  /** texts per scorer call (and per journal line flush); default 64 */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RescoreResult {
  key: string;
  scorer: string;
  version: string;
  /** records that got a score now (null values included: blank responses) */
  scored: number;
  /** records already scored, from the journal of an interrupted rescore or an earlier finished one */
  resumed: number;
  /** records without a response to score (errors, skipped rounds) */
  untouched: number;
}

interface RawRecord {
  itemId: string;
  condition: string;
  round: number;
  response?: unknown;
  error?: unknown;
  scores?: Record<string, ResponseScore>;
}

export function journalFile(runDir: string, key: string): string {
  return path.join(runDir, `rescore-${key}.partial.jsonl`);
}

/** The records as raw JSON objects (unknown fields kept as they are); a torn last line is refused, not guessed. */
async function readRawRecords(runDir: string): Promise<RawRecord[]> {
  const file = path.join(runDir, RECORDS_FILE);
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new SclabError('io', `${file}: cannot read (${e.code ?? e.message})`);
  });
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new SclabError('io', `${file}: the last line is torn (the run was killed mid-write); resume the run in ${runDir} before re-scoring it`);
  }
  const out: RawRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new SclabError('io', `${file}:${i + 1}:1: not valid JSON (${(e as Error).message})`);
    }
    const r = json as RawRecord;
    if (!r || typeof r !== 'object' || typeof r.itemId !== 'string' || typeof r.condition !== 'string' || typeof r.round !== 'number') {
      throw new SclabError('io', `${file}:${i + 1}:1: not a round record (itemId, condition and round are required)`);
    }
    out.push(r);
  });
  return out;
}

type Journal = Map<string, ResponseScore>;

async function readJournal(file: string, scorer: Scorer, key: string): Promise<Journal> {
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw new SclabError('io', `${file}: cannot read (${e.code ?? e.message})`);
  });
  const journal: Journal = new Map();
  // a torn last line is the batch being written at the crash: cut off, it is scored again
  const complete = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, complete).split('\n').slice(0, -1);
  if (lines.length === 0) {
    await fs.rm(file, { force: true });
    return journal;
  }
  if (complete < text.length) await fs.truncate(file, Buffer.byteLength(text.slice(0, complete)));
  const parse = (line: string, i: number): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw new SclabError('io', `${file}:${i + 1}: not valid JSON; delete the file to start the re-scoring over`);
    }
  };
  const head = parse(lines[0]!, 0) as { schema?: string; key?: string; scorer?: string; version?: string };
  if (head.schema !== RESCORE_JOURNAL_SCHEMA || head.key !== key) throw new SclabError('io', `${file}: not a re-scoring journal for "${key}"; delete it to start over`);
  if (head.scorer !== scorer.name || head.version !== scorer.version) {
    throw new SclabError('config', `${file}: an interrupted re-scoring of "${key}" used ${head.scorer}@${head.version}, not ${scorer.name}@${scorer.version}; finish it with that scorer, or delete the file to start over`);
  }
  lines.slice(1).forEach((line, i) => {
    const e = parse(line, i + 1) as { k: string; s: ResponseScore };
    journal.set(e.k, e.s);
  });
  return journal;
}

function scoreOf(value: number | null | undefined, response: string, scorer: Scorer): ResponseScore {
  return {
    value: value ?? null,
    scorer: scorer.name,
    version: scorer.version,
    ...(value === null || value === undefined ? { error: isBlank(response) ? 'empty response: not scored' : 'the scorer returned no score for this text' } : {}),
  };
}

export async function rescoreRun(opts: RescoreOptions): Promise<RescoreResult> {
  const { runDir, scorer } = opts;
  if (opts.key !== undefined && !KEY_RE.test(opts.key)) throw new SclabError('config', `--name ${JSON.stringify(opts.key)}: use letters, digits, ".", "_" or "-"`);
  const manifest = await readManifest(runDir);
  if (manifest.experiment.task !== 'generation') throw new SclabError('config', `${runDir} is a ${manifest.experiment.task} run: only generation runs have responses to score`);
  await acquireRunLock(runDir);
  try {
    const records = await readRawRecords(runDir);
    const key = opts.key ?? (records.some((r) => r.scores?.[MAIN_KEY] !== undefined) ? `${MAIN_KEY}-${scorer.name}` : MAIN_KEY);
    for (const r of records) {
      const old = r.scores?.[key];
      if (old && (old.scorer !== scorer.name || old.version !== scorer.version)) {
        throw new SclabError('config', (w) => `records already hold "${key}" scores from ${old.scorer}@${old.version}; re-scoring never overwrites them: pick another ${w.scoreName} (e.g. ${key}-${scorer.name})`);
      }
    }
    const jfile = journalFile(runDir, key);
    const journal = await readJournal(jfile, scorer, key);
    const scorable = records.filter((r) => !r.error && typeof r.response === 'string');
    const done = (r: RawRecord) => r.scores?.[key] !== undefined || journal.has(recordKey(r.itemId, r.condition, r.round));
    const todo = scorable.filter((r) => !done(r));
    const resumed = scorable.length - todo.length;

    if (todo.length > 0) {
      const fh = await fs.open(jfile, 'a');
      try {
        if ((await fh.stat()).size === 0) await fh.writeFile(JSON.stringify({ schema: RESCORE_JOURNAL_SCHEMA, key, scorer: scorer.name, version: scorer.version }) + '\n');
        let n = resumed;
        for (const batch of chunks(todo, opts.batchSize ?? 64)) {
          if (opts.signal?.aborted) throw new SclabError('cancelled', `re-scoring cancelled; run the same command again to continue from ${n} of ${scorable.length}`);
          const texts = batch.map((r) => r.response as string);
          const values = await scorer.score(texts, opts.signal);
          const lines = batch.map((r, i) => {
            const s = scoreOf(values[i], texts[i]!, scorer);
            const k = recordKey(r.itemId, r.condition, r.round);
            journal.set(k, s);
            return JSON.stringify({ k, s });
          });
          await fh.writeFile(lines.join('\n') + '\n');
          await fh.sync();
          n += batch.length;
          opts.onProgress?.(n, scorable.length);
        }
      } finally {
        await fh.close();
      }
    }

    if (journal.size > 0) {
      const text = records
        .map((r) => {
          const s = journal.get(recordKey(r.itemId, r.condition, r.round));
          return JSON.stringify(s && r.scores?.[key] === undefined ? { ...r, scores: { ...r.scores, [key]: s } } : r);
        })
        .join('\n');
      await writeFileAtomic(path.join(runDir, RECORDS_FILE), text + (text ? '\n' : ''));
    }
    const card: ScorerCard = { name: key, scorer: scorer.name, version: scorer.version, ...scorer.about, rescoredAt: new Date().toISOString() };
    const m = await readManifest(runDir);
    const cards = [...(m.scorers ?? []).filter((c) => c.name !== key), card];
    await writeFileAtomic(path.join(runDir, MANIFEST_FILE), JSON.stringify({ ...m, scorers: cards, updatedAt: new Date().toISOString() }, null, 2) + '\n');
    await fs.rm(jfile, { force: true });
    return { key, scorer: scorer.name, version: scorer.version, scored: todo.length, resumed, untouched: records.length - scorable.length };
  } finally {
    await releaseRunLock(runDir);
  }
}
