import { promises as fs, constants as fsc } from 'node:fs';
import * as path from 'node:path';
import { SclabError } from '../model/errors';
import { RunManifestSchema, type RunManifest } from '../model/manifest';
import { isCanonicalRoundRecord, RoundRecordSchema, type RoundRecord } from '../model/record';
import { shareStrings } from '../util/shareStrings';
import { AnalysisItems } from '../analysis/analysisItem';
import { ItemSchema, type Item } from '../model/item';
import { acquireRunLock, releaseRunLock } from './run-lock';

export { lockHolder, type LockHolder } from './run-lock';

export const MANIFEST_FILE = 'manifest.json';
export const RECORDS_FILE = 'records.jsonl';
export const SUMMARY_FILE = 'summary.json';
/** the items the run planned, as read from the dataset: analysis and the viewer need their metadata */
export const ITEMS_FILE = 'items.jsonl';

export function recordKey(itemId: string, condition: string, round: number): string {
  return `${itemId}\u0000${condition}\u0000${round}`;
}

const WRITE_BATCH_CHARS = 1 << 20;

/** Writes pieces (lines) to an open file about a MiB at a time, so that a large file is never one string in memory. */
export class BatchedWriter {
  private batch: string[] = [];
  private size = 0;

  constructor(private readonly fh: fs.FileHandle) {}

  async write(piece: string): Promise<void> {
    this.batch.push(piece);
    this.size += piece.length;
    if (this.size >= WRITE_BATCH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const text = this.batch.join('');
    this.batch = [];
    this.size = 0;
    await this.fh.write(text);
  }
}

/**
 * Writes a file so that readers see either the old or the new content, never a half-written one. `data` may come
 * as pieces (lines), written about a MiB at a time (BatchedWriter).
 */
export async function writeFileAtomic(file: string, data: string | Iterable<string>): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    if (typeof data === 'string') await fh.writeFile(data);
    else {
      const out = new BatchedWriter(fh);
      for (const piece of data) await out.write(piece);
      await out.flush();
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

/**
 * Items written, as items.jsonl's lines, to a file of their own before the run folder exists (`stageExperiment`),
 * so that a run never holds its dataset: the run folder takes the file over when it is created.
 */
export interface StagedItems {
  file: string;
  /** items (lines) in the file */
  length: number;
}

/** Moves a staged file into place: a rename, or a copy where the two are on different file systems. */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.copyFile(from, to);
    await fs.rm(from, { force: true });
  }
}

export async function readManifest(runDir: string): Promise<RunManifest> {
  const file = path.join(runDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new SclabError('io', `${file}: cannot read the run manifest (${(err as NodeJS.ErrnoException).code ?? String(err)}); is ${runDir} a run folder?`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SclabError('io', `${file}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = RunManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SclabError('io', `${file}: not a sclab.run/1 manifest: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  return parsed.data;
}

export interface ReadRecordsResult {
  records: RoundRecord[];
  /** bytes of a torn last line (a crash mid-write) that was dropped */
  tornBytes: number;
}

/**
 * Reads records.jsonl. A last line without its newline is what a crash mid-write leaves: it is dropped (and, when
 * `repair` is set, cut off the file) so that its work is redone. Any other unreadable line is an error: it would mean
 * the file was edited by hand, and guessing would lose or repeat work. Holds every record: for small runs and tests;
 * whatever must scale goes through `forEachRecord`.
 */
export async function readRecords(runDir: string, opts: { repair?: boolean } = {}): Promise<ReadRecordsResult> {
  const records: RoundRecord[] = [];
  const { tornBytes } = await forEachRecord(runDir, (r) => void records.push(r), opts);
  return { records, tornBytes };
}

/** What one streaming pass over records.jsonl saw. */
export interface RecordsPass {
  /** records read */
  records: number;
  /** bytes of a torn last line (a crash mid-write) that was dropped */
  tornBytes: number;
}

const CHUNK_BYTES = 1 << 20;

/**
 * One streaming pass over records.jsonl: each record is checked and handed to `visit`, then forgotten, so memory holds
 * one chunk of the file, not the run. Same rules as `readRecords` (torn last line dropped; any other bad line is an
 * error naming file and line). `visit` also gets the line's byte offset and length, for indexes into the file.
 */
export async function forEachRecord(
  runDir: string,
  visit: (record: RoundRecord, at: { line: number; offset: number; bytes: number }) => void,
  opts: { repair?: boolean; readOnly?: boolean } = {},
): Promise<RecordsPass> {
  const file = path.join(runDir, RECORDS_FILE);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: 0, tornBytes: 0 };
    throw new SclabError('io', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let records = 0;
  let line = 0;
  let rest: Awaited<ReturnType<typeof forEachLine>>;
  try {
    rest = await forEachLine(fh, (text, at) => {
      line++;
      if (text.trim() === '') return;
      visit(parseRecordLine(file, line, text, opts.readOnly), { line, ...at });
      records++;
    });
  } finally {
    await fh.close();
  }
  if (rest.bytes.length > 0 && opts.repair) await fs.truncate(file, rest.offset);
  return { records, tornBytes: rest.bytes.length };
}

/**
 * Calls `take` with each newline-terminated line of an open file, read in chunks (never the whole file as one
 * string), with the line's byte offset and length (newline included); returns the bytes after the last newline (a
 * torn or unterminated last line) and their offset.
 */
async function forEachLine(fh: fs.FileHandle, take: (text: string, at: { offset: number; bytes: number }) => void): Promise<{ bytes: Buffer; offset: number }> {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let fileOffset = 0; // of the first byte of `pending`
  let pending: Buffer = Buffer.alloc(0);
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, CHUNK_BYTES, null);
    if (bytesRead === 0) break;
    const buf = pending.length ? Buffer.concat([pending, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      take(buf.toString('utf8', start, nl), { offset: fileOffset + start, bytes: nl + 1 - start });
      start = nl + 1;
    }
    fileOffset += start;
    // the rest is the start of the next line: copied, since `chunk` is reused
    pending = Buffer.from(buf.subarray(start));
  }
  return { bytes: pending, offset: fileOffset };
}

/** One line of records.jsonl, checked; `where` is its line number (or another position) for the error. */
export function parseRecordLine(file: string, where: number | string, text: string, readOnly = false): RoundRecord {
  const at = typeof where === 'number' ? `${file}:${where}:1` : `${file} (${where})`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SclabError('io', `${at}: not valid JSON (${(err as Error).message}); the run store was edited or corrupted`);
  }
  // read-only callers take a line already in the schema's exact shape as it is (see isCanonicalRoundRecord)
  if (readOnly && isCanonicalRoundRecord(json)) return json;
  const parsed = RoundRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SclabError('io', `${at}: not a round record: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  return parsed.data;
}

/** One recorded round of a chain that a resumed run has not finished: what its later rounds need. */
export interface RecordedRound {
  prefill: string;
  response: string;
  error: boolean;
}

/**
 * What a resumed run needs from the records it already has, read in one streaming pass: the chains that are complete
 * (a key each), the recorded rounds of chains that are not (their answers are the next rounds' history), and counts.
 * Its size grows with chains, not with the records' text.
 */
export interface ResumeState {
  complete: Set<string>;
  /** chain key → round → what was recorded */
  partial: Map<string, Map<number, RecordedRound>>;
  counts: { recorded: number; errors: number; cached: number };
}

export function chainKey(itemId: string, condition: string): string {
  return `${itemId}\u0000${condition}`;
}

/** `roundsOf(condition)`: the rounds the run plans for a condition (undefined for one it does not plan). */
export async function readResumeState(runDir: string, roundsOf: (condition: string) => number | undefined, opts: { repair?: boolean } = {}): Promise<ResumeState & { tornBytes: number }> {
  const state: ResumeState = { complete: new Set(), partial: new Map(), counts: { recorded: 0, errors: 0, cached: 0 } };
  const { tornBytes } = await forEachRecord(
    runDir,
    (r) => {
      state.counts.recorded++;
      if (r.error) state.counts.errors++;
      if (r.cached) state.counts.cached++;
      const planned = roundsOf(r.condition);
      if (planned === undefined) return;
      const key = chainKey(r.itemId, r.condition);
      if (state.complete.has(key)) return;
      let rounds = state.partial.get(key);
      if (!rounds) state.partial.set(key, (rounds = new Map()));
      rounds.set(r.round, { prefill: r.prefill, response: r.response, error: r.error !== undefined });
      let all = true;
      for (let i = 0; i < planned && all; i++) all = rounds.has(i);
      if (all) {
        state.partial.delete(key);
        state.complete.add(key);
      }
    },
    { ...opts, readOnly: true },
  );
  return { ...state, tornBytes };
}

/**
 * The items a run planned (written when it started); [] for a run folder without the file. `forAnalysis`: each as
 * analysis reads it (`AnalysisItems`: no template text, repeated options and lists shared), for a reader that only computes statistics.
 */
export async function readItems(runDir: string, opts: { forAnalysis?: boolean } = {}): Promise<Item[]> {
  const file = path.join(runDir, ITEMS_FILE);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SclabError('io', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // line by line, not the whole file as one string: a full BBQ's items are tens of MB of text
  const items: Item[] = [];
  const strings = new Map<string, string>();
  const shared = opts.forAnalysis ? new AnalysisItems() : null;
  let lineNo = 0;
  const take = (line: string) => {
    lineNo++;
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new SclabError('io', `${file}:${lineNo}:1: not valid JSON (${(err as Error).message}); the run store was edited or corrupted`);
    }
    const parsed = ItemSchema.safeParse(json);
    if (!parsed.success) throw new SclabError('io', `${file}:${lineNo}:1: not an item: ${parsed.error.issues[0]?.message ?? ''}`);
    items.push(shared ? shared.add(parsed.data) : shareStrings(parsed.data, strings));
  };
  try {
    const rest = await forEachLine(fh, (line) => take(line));
    take(rest.bytes.toString('utf8'));
  } finally {
    await fh.close();
  }
  return items;
}

/** resolves after the I/O callbacks of this turn of the event loop have run */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The append-only writer of one run folder, held by one process at a time. */
export class RunStore {
  private constructor(
    readonly runDir: string,
    private records: fs.FileHandle,
    private manifest: RunManifest,
  ) {}

  closed = false;

  get current(): RunManifest {
    return this.manifest;
  }

  /** `items`: the planned items, or a staged items.jsonl (moved into the run folder) */
  static async create(runDir: string, manifest: RunManifest, items: readonly Item[] | StagedItems = []): Promise<RunStore> {
    try {
      await fs.mkdir(path.dirname(runDir), { recursive: true });
      await fs.mkdir(runDir); // fails if it exists: never mix two runs in one folder
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SclabError('io', code === 'EEXIST' ? `${runDir} already exists; resume that run to continue it` : `cannot create ${runDir} (${code ?? String(err)})`);
    }
    await acquireRunLock(runDir);
    if ('file' in items) await moveInto(items.file, path.join(runDir, ITEMS_FILE));
    else {
      // line by line: a full BBQ's items are tens of MB of text, which need not be one string
      await writeFileAtomic(path.join(runDir, ITEMS_FILE), (function* () {
        for (const i of items) yield JSON.stringify(i) + '\n';
      })());
    }
    await writeFileAtomic(path.join(runDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    const fh = await fs.open(path.join(runDir, RECORDS_FILE), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND);
    return new RunStore(runDir, fh, manifest);
  }

  /** Opens a run to resume it: reads what is recorded in one streaming pass (see `ResumeState`), repairing a torn tail. */
  static async open(runDir: string): Promise<{ store: RunStore; resume: ResumeState; tornBytes: number }> {
    const manifest = await readManifest(runDir);
    await acquireRunLock(runDir);
    try {
      const rounds = new Map(manifest.experiment.conditions.map((c) => [c.name, c.rounds]));
      const { tornBytes, ...resume } = await readResumeState(runDir, (c) => rounds.get(c), { repair: true });
      const fh = await fs.open(path.join(runDir, RECORDS_FILE), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND);
      return { store: new RunStore(runDir, fh, manifest), resume, tornBytes };
    } catch (err) {
      await releaseRunLock(runDir);
      throw err;
    }
  }

  private batch: { lines: string[]; done: Promise<void> } | null = null;
  private writing: Promise<void> = Promise.resolve();

  /**
   * Appends one line. Lines appended while a write is in flight, or in the same turn of the event loop (the answers
   * that one poll of the sockets brought), are coalesced into the next single write (fewer syscalls at high
   * concurrency); whole lines are written in order, so a crash can only tear the last line. The promise resolves
   * once this line is in the file.
   */
  append(record: RoundRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    if (this.batch) {
      this.batch.lines.push(line);
      return this.batch.done;
    }
    const lines = [line];
    const done = this.writing.then(nextTurn).then(() => {
      if (this.batch?.lines === lines) this.batch = null; // later appends start the next batch
      return this.records.write(lines.join('')).then(() => undefined);
    });
    this.batch = { lines, done };
    this.writing = done.catch(() => undefined);
    return done;
  }

  async updateManifest(update: (m: RunManifest) => RunManifest): Promise<void> {
    this.manifest = update(this.manifest);
    this.manifest.updatedAt = new Date().toISOString();
    await writeFileAtomic(path.join(this.runDir, MANIFEST_FILE), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    await this.records.sync().catch(() => undefined);
    await this.records.close();
    await releaseRunLock(this.runDir);
  }
}
