import { promises as fs, constants as fsc } from 'node:fs';
import * as path from 'node:path';
import { SclabError } from '../model/errors';
import { RunManifestSchema, type RunManifest } from '../model/manifest';
import { RoundRecordSchema, type RoundRecord } from '../model/record';
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

/** Writes a file so that readers see either the old or the new content, never a half-written one. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
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
 * the file was edited by hand, and guessing would lose or repeat work.
 */
export async function readRecords(runDir: string, opts: { repair?: boolean } = {}): Promise<ReadRecordsResult> {
  const file = path.join(runDir, RECORDS_FILE);
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornBytes: 0 };
    throw new SclabError('io', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const lastNl = buf.lastIndexOf(0x0a);
  const complete = lastNl < 0 ? 0 : lastNl + 1;
  const tornBytes = buf.length - complete;
  if (tornBytes > 0 && opts.repair) await fs.truncate(file, complete);
  const records: RoundRecord[] = [];
  const lines = buf.subarray(0, complete).toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new SclabError('io', `${file}:${i + 1}:1: not valid JSON (${(err as Error).message}); the run store was edited or corrupted`);
    }
    const parsed = RoundRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SclabError('io', `${file}:${i + 1}:1: not a round record: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
    }
    records.push(parsed.data);
  }
  return { records, tornBytes };
}

/** The items a run planned (written when it started); [] for a run folder without the file. */
export async function readItems(runDir: string): Promise<Item[]> {
  const file = path.join(runDir, ITEMS_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SclabError('io', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const parsed = ItemSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new SclabError('io', `${file}:${i + 1}:1: not an item: ${parsed.error.issues[0]?.message ?? ''}`);
      return parsed.data;
    });
}

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

  static async create(runDir: string, manifest: RunManifest, items: readonly Item[] = []): Promise<RunStore> {
    try {
      await fs.mkdir(path.dirname(runDir), { recursive: true });
      await fs.mkdir(runDir); // fails if it exists: never mix two runs in one folder
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SclabError('io', code === 'EEXIST' ? `${runDir} already exists; use --resume to continue it` : `cannot create ${runDir} (${code ?? String(err)})`);
    }
    await acquireRunLock(runDir);
    await writeFileAtomic(path.join(runDir, ITEMS_FILE), items.map((i) => JSON.stringify(i) + '\n').join(''));
    await writeFileAtomic(path.join(runDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    const fh = await fs.open(path.join(runDir, RECORDS_FILE), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND);
    return new RunStore(runDir, fh, manifest);
  }

  static async open(runDir: string): Promise<{ store: RunStore; records: RoundRecord[]; tornBytes: number }> {
    const manifest = await readManifest(runDir);
    await acquireRunLock(runDir);
    try {
      const { records, tornBytes } = await readRecords(runDir, { repair: true });
      const fh = await fs.open(path.join(runDir, RECORDS_FILE), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND);
      return { store: new RunStore(runDir, fh, manifest), records, tornBytes };
    } catch (err) {
      await releaseRunLock(runDir);
      throw err;
    }
  }

  private batch: { lines: string[]; done: Promise<void> } | null = null;
  private writing: Promise<void> = Promise.resolve();

  /**
   * Appends one line. Lines appended while a write is in flight are coalesced into the next single write (fewer
   * syscalls at high concurrency); whole lines are written in order, so a crash can only tear the last line. The
   * promise resolves once this line is in the file.
   */
  append(record: RoundRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    if (this.batch) {
      this.batch.lines.push(line);
      return this.batch.done;
    }
    const lines = [line];
    const done = this.writing.then(() => {
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
