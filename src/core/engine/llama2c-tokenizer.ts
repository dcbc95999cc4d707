// llama2.c's tokenizer (tokenizer.bin / tok512.bin): a SentencePiece vocabulary with scores, encoded by greedy
// merging of the best-scoring adjacent pair, exactly as llama2.c's run.c does it, so token ids match the model.
import { readFile } from 'node:fs/promises';
import { SclabError } from '../model/errors';
import type { Tokenizer } from './types';

const UNK_ID = 0;
const BOS_ID = 1;
const EOS_ID = 2;
/** byte-fallback pieces `<0x00>`…`<0xFF>` start right after <unk>, <s>, </s> */
const BYTE_OFFSET = 3;
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export class Llama2cTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId = BOS_ID;
  /** llama2.c's training data delimits stories with BOS, so run.c ends generation on BOS as well as on EOS */
  readonly eosIds = [EOS_ID, BOS_ID];
  readonly specialIds: ReadonlySet<number> = new Set([UNK_ID, BOS_ID, EOS_ID]);
  private readonly pieces: string[];
  private readonly scores: Float32Array;
  /** raw byte for byte-fallback pieces, -1 otherwise */
  private readonly pieceByte: Int16Array;
  private readonly pieceBytes: Uint8Array[];
  private readonly lookup = new Map<string, number>();

  constructor(pieces: string[], scores: Float32Array) {
    this.vocabSize = pieces.length;
    this.pieces = pieces;
    this.scores = scores;
    this.pieceByte = new Int16Array(pieces.length).fill(-1);
    const enc = new TextEncoder();
    this.pieceBytes = pieces.map((p) => enc.encode(p));
    pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
      const m = BYTE_PIECE.exec(p);
      if (m) this.pieceByte[id] = parseInt(m[1]!, 16);
    });
  }

  /** the piece text of an id as stored in the vocabulary (byte pieces stay `<0xNN>`) */
  piece(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new SclabError('bad_request', `token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return p;
  }

  encode(text: string): number[] {
    if (text === '') return [];
    const tokens: number[] = [];
    // add_dummy_prefix: SentencePiece encodes " " + text
    const space = this.lookup.get(' ');
    if (space !== undefined) tokens.push(space);
    const enc = new TextEncoder();
    for (const ch of text) {
      const id = this.lookup.get(ch);
      if (id !== undefined) tokens.push(id);
      else for (const b of enc.encode(ch)) tokens.push(b + BYTE_OFFSET);
    }
    return this.mergePairs(tokens);
  }

  /**
   * Greedy merge: repeatedly replace the adjacent pair whose concatenation is the highest-scoring piece (the leftmost
   * on ties), exactly as run.c does — but in O(n log n): tokens are a linked list, candidate pairs wait in a max-heap
   * ordered by (score, position), and a pair whose tokens changed since it was pushed is skipped when it comes up.
   * (run.c rescans every pair after each merge: a 300,000-character prompt took 80 s.)
   */
  private mergePairs(tokens: number[]): number[] {
    const n = tokens.length;
    if (n < 2) return tokens;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const version = new Uint32Array(n); // bumped whenever a node's token changes or the node goes away
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    const push = (left: number): void => {
      const right = next[left]!;
      if (right < 0) return;
      const id = this.lookup.get(this.pieces[tokens[left]!]! + this.pieces[tokens[right]!]!);
      if (id === undefined) return;
      const score = this.scores[id]!;
      if (!(score > -1e10)) return; // run.c's floor: a pair scoring at or below it never merges
      heap.push(score, left, right, version[left]!, version[right]!, id);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const e = heap.pop();
      const { left, right } = e;
      if (!alive[left] || !alive[right] || next[left] !== right || version[left] !== e.leftVersion || version[right] !== e.rightVersion) continue;
      tokens[left] = e.id;
      version[left]!++;
      alive[right] = 0;
      version[right]!++;
      const after = next[right]!;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      if (prev[left]! >= 0) push(prev[left]!);
      push(left);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(tokens[i]!);
    return out;
  }

  /**
   * Text of ids. Like run.c: a piece right after BOS loses its leading space (the dummy prefix), byte pieces become
   * their bytes (invalid UTF-8 turns into U+FFFD), and the special tokens <unk>, <s>, </s> print nothing.
   */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    let prev = -1;
    for (const id of ids) {
      const piece = this.pieceBytes[id];
      if (piece === undefined) throw new SclabError('bad_request', `token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
      const byte = this.pieceByte[id]!;
      if (byte >= 0) bytes.push(byte);
      else if (id !== UNK_ID && id !== BOS_ID && id !== EOS_ID) {
        const start = prev === BOS_ID && piece[0] === 0x20 ? 1 : 0;
        for (let i = start; i < piece.length; i++) bytes.push(piece[i]!);
      }
      prev = id;
    }
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
  }
}

/** Parses llama2.c's tokenizer file: int32 max_token_length, then per piece float32 score, int32 length, bytes. */
export function parseLlama2cTokenizer(buf: Uint8Array, vocabSize: number, file: string): Llama2cTokenizer {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (what: string): never => {
    throw new SclabError('model', `${file}: ${what} (llama2.c tokenizer with ${vocabSize} pieces expected)`);
  };
  if (buf.byteLength < 4) fail('file is shorter than its 4-byte header');
  const maxLen = view.getInt32(0, true);
  if (maxLen <= 0) fail(`max_token_length ${maxLen} is not positive`);
  const decoder = new TextDecoder('utf-8');
  const pieces: string[] = [];
  const scores = new Float32Array(vocabSize);
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > buf.byteLength) fail(`truncated at piece ${i} (byte ${off})`);
    scores[i] = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0 || len > maxLen || off + len > buf.byteLength) fail(`piece ${i} has a bad length ${len} (byte ${off - 4})`);
    pieces.push(decoder.decode(buf.subarray(off, off + len)));
    off += len;
  }
  if (off !== buf.byteLength) fail(`${buf.byteLength - off} unexpected bytes after the last piece`);
  return new Llama2cTokenizer(pieces, scores);
}

export async function loadLlama2cTokenizer(file: string, vocabSize: number): Promise<Llama2cTokenizer> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new SclabError('model', `cannot read tokenizer ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseLlama2cTokenizer(buf, vocabSize, file);
}

interface PairEntry {
  score: number;
  left: number;
  right: number;
  leftVersion: number;
  rightVersion: number;
  id: number;
}

/** A binary max-heap of candidate merges: higher score first, then the leftmost (smaller node index). */
class PairHeap {
  private readonly items: PairEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(score: number, left: number, right: number, leftVersion: number, rightVersion: number, id: number): void {
    const a = this.items;
    a.push({ score, left, right, leftVersion, rightVersion, id });
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): PairEntry {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: PairEntry, y: PairEntry): boolean {
  return x.score > y.score || (x.score === y.score && x.left < y.left);
}
