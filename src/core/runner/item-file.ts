import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SclabError } from '../model/errors';
import { ItemSchema, type Item } from '../model/item';
import { ITEMS_FILE } from './store';

const CHUNK_BYTES = 1 << 20;
/** items parsed lately, kept while their chains start: a run walks chains item by item (plan.ts), so a few suffice */
const RECENT_ITEMS = 8;

/**
 * A run folder's items.jsonl read on demand: the runner keeps the byte offset of each line (16 bytes an item), not
 * the items, so its memory does not grow with the dataset. A line is parsed (and checked against the schema, as
 * `readItems` does) when a chain of its item starts; the last few are kept, since an item's chains start together.
 * Holds the file open until `close`.
 */
export class ItemFile {
  private recent = new Map<number, Promise<Item>>();

  private constructor(
    private readonly file: string,
    private readonly fh: fs.FileHandle,
    /** item i's line: bytes [spans[2i], spans[2i + 1]) of the file */
    private readonly spans: Float64Array,
  ) {}

  /** Opens a run folder's items.jsonl and finds its lines in one streaming pass. */
  static async open(runDir: string): Promise<ItemFile> {
    const file = path.join(runDir, ITEMS_FILE);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (err) {
      throw new SclabError('io', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    try {
      return new ItemFile(file, fh, await lineSpans(fh));
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  get length(): number {
    return this.spans.length / 2;
  }

  /** Item `index` (0-based line number); undefined past the end. */
  at(index: number): Promise<Item | undefined> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return Promise.resolve(undefined);
    let item = this.recent.get(index);
    if (!item) {
      item = this.read(index);
      this.recent.set(index, item);
      if (this.recent.size > RECENT_ITEMS) this.recent.delete(this.recent.keys().next().value!);
    }
    return item;
  }

  async close(): Promise<void> {
    this.recent.clear();
    await this.fh.close();
  }

  private async read(index: number): Promise<Item> {
    const start = this.spans[2 * index]!;
    const buf = Buffer.allocUnsafe(this.spans[2 * index + 1]! - start);
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, start);
    const where = `${this.file}:${index + 1}:1`;
    if (bytesRead !== buf.length) throw new SclabError('io', `${where}: the file changed while the run read it`);
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new SclabError('io', `${where}: not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const parsed = ItemSchema.safeParse(value);
    if (!parsed.success) throw new SclabError('io', `${where}: not an item: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }
}

/** Each non-blank line's start and end (newline excluded) as pairs; a last line without its newline counts. */
async function lineSpans(fh: fs.FileHandle): Promise<Float64Array> {
  let spans = new Float64Array(2048);
  let n = 0;
  const push = (start: number, end: number) => {
    if (n + 2 > spans.length) {
      const grown = new Float64Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[n++] = start;
    spans[n++] = end;
  };
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let pos = 0; // file offset of chunk[0]
  let lineStart = 0;
  let blank = true; // the line so far holds only whitespace (readItems skips such lines)
  const scan = (from: number, to: number) => {
    for (let k = from; blank && k < to; k++) {
      const b = chunk[k]!;
      if (b !== 0x20 && b !== 0x09 && b !== 0x0d) blank = false;
    }
  };
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, CHUNK_BYTES, pos);
    if (bytesRead === 0) break;
    let k = 0;
    for (let nl = chunk.indexOf(0x0a, k); nl >= 0 && nl < bytesRead; nl = chunk.indexOf(0x0a, k)) {
      scan(k, nl);
      if (!blank) push(lineStart, pos + nl);
      k = nl + 1;
      lineStart = pos + k;
      blank = true;
    }
    scan(k, bytesRead);
    pos += bytesRead;
  }
  if (!blank) push(lineStart, pos);
  return spans.slice(0, n);
}
