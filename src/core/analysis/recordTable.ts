// Browser-safe: a run's records as analysis reads them, held as columns of typed arrays (one row per line of
// records.jsonl), so that a million records analyse in bounded memory (no object per record: about 24 bytes a row,
// and 8 a option score; the columns of small integers take one byte a row until a value needs more, see `put`).
//
// What is kept, per row: the item (an index into the item table), the cell (condition × round), the parsed answers
// (indices into a table of shared answer objects), correct, latency (in tenths of a millisecond, as the runner
// rounds it; any other value kept exactly on the side), attempts, cached, the finish reason and the
// error (indices into shared tables), the row's gold rank as goldRankOf gives it (rank, method, censored: computed
// once at read time with the item; for a row ranked from its top-k alternatives it is remembered, since the
// alternatives themselves are dropped), and the option scores
// (method, gold rank, and the per-option log-probabilities in one shared Float64Array, see OptionLogprobs). Sparse,
// only for rows that have them: probe scores, response scores, the
// exact-ranking extras (token counts, aggregate), and the response text when the reader asked for it.
// Dropped: the conversation, prefill, top-k alternatives, request tallies, timestamps (an item's page reads those
// from the file by byte offset).
//
// Per cell, a table item index → row (Int32Array, the last row wins, as in indexRun) and the items in first-seen
// order. Analysis reads cells through `CellRecords`, a ReadonlyMap that builds a short-lived record object for the
// row asked for, so every statistic (medians, bootstraps over items, paired tests, McNemar, rank transitions,
// Spearman) is computed by the same code, in the same order, from the same values as from whole records.
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { ParsedAnswer, ProbeScores, ResponseScore, RoundRecord } from '../model/record';
import { goldRankOf, rememberGoldRank, type GoldRank, type RankMethod } from './goldRank';
import { guessKind, indexRun, inItemOrder, plannedPositions, type ConditionKind, type RunIndex } from './runIndex';

type OptionScores = NonNullable<RoundRecord['optionScores']>;
type OptionExtras = Pick<OptionScores, 'tokenCounts' | 'aggregate'>;

const METHODS: readonly RankMethod[] = ['exact', 'label-logprob', 'approximate'];
// cast: records built from the table drop the conversation (analysis never reads it); one frozen empty list serves
// them all; a frozen array is readonly, which the record's mutable field type does not admit
const NO_MESSAGES: RoundRecord['messages'] = Object.freeze([]) as unknown as RoundRecord['messages'];
/** answer column values that are not an index into the answer table */
const ANSWER_NULL = -1;
const ANSWER_ABSENT = -2;
/** rankInfo bits: method index (0-1), censored (2), remember the rank on the row's record (3) */
const CENSORED = 4;
const REMEMBER = 8;

type Column = Int32Array | Int16Array | Int8Array | Uint8Array | Float64Array;
/** a column of small integers (indices into small tables, counts): as narrow as its values allow */
type IntColumn = Int8Array | Int16Array | Int32Array;

/**
 * Stores `v` at row `i` of an integer column, first widening the column (Int8 → Int16 → Int32) when `v` does not fit;
 * returns the column to keep. Most such columns hold a few distinct values (cells, answers, finish reasons, attempts,
 * ranks), so they take one byte a row instead of four, and still hold any value exactly.
 */
function put(a: IntColumn, i: number, v: number): IntColumn {
  const fits = a instanceof Int8Array ? v >= -128 && v <= 127 : a instanceof Int16Array ? v >= -32768 && v <= 32767 : true;
  const col = fits ? a : v >= -32768 && v <= 32767 ? Int16Array.from(a) : Int32Array.from(a);
  col[i] = v;
  return col;
}

/** Grows a typed array to hold at least `n` elements (half as many again, so that adding rows is amortised). */
function grownByHalf<T extends Column>(a: T, n: number): T {
  return n <= a.length ? a : resized(a, Math.max(n, Math.ceil(a.length * 1.5), 1024));
}

/** Grows a typed array to hold exactly `n` elements. */
function exactly<T extends Column>(a: T, n: number): T {
  return n <= a.length ? a : resized(a, n);
}

function resized<T extends Column>(a: T, n: number): T {
  const next = new (a.constructor as new (n: number) => T)(n);
  next.set(a);
  return next;
}

/** A table of distinct values, each stored once and named by its index. */
class Interned<T> {
  readonly values: T[] = [];
  private readonly index = new Map<string, number>();
  id(key: string, make: () => T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(make());
      this.index.set(key, i);
    }
    return i;
  }
}

/**
 * The rows' option log-probabilities, in one Float64Array (null as NaN: JSON has no NaN, so the mapping is exact).
 * While every row has the same number of options (one dataset's usual shape), row r's values sit at r × that number
 * and no per-row start or length is kept; the first row with another number switches to a start and a length per row.
 * With the rows known in advance the values are allocated once (a grown array is up to half empty, and its old copy
 * is garbage at the moment the table is largest).
 */
class OptionLogprobs {
  private values = new Float64Array(0);
  private used = 0;
  /** options per row while the rows are uniform; -1 before the first row */
  private stride = -1;
  /** per row, once they are not */
  private start: Int32Array | null = null;
  private length: IntColumn = new Int8Array(0);

  /** `rows`: the rows expected (0 when not known) */
  constructor(private readonly rows: number) {}

  set(row: number, logprobs: ReadonlyArray<number | null>): void {
    const n = logprobs.length;
    if (this.start === null && this.stride < 0) this.stride = n;
    if (this.start === null && n !== this.stride) this.unstride(row);
    let at: number;
    if (this.start === null) {
      at = row * this.stride;
      this.room(at + n, row < this.rows ? this.rows * this.stride : 0);
      this.used = at + n;
    } else {
      at = this.used;
      this.room(at + n, 0);
      this.start = grownByHalf(this.start, row + 1);
      this.start[row] = at;
      this.length = put(grownByHalf(this.length, row + 1), row, n);
      this.used += n;
    }
    for (let k = 0; k < n; k++) {
      const v = logprobs[k]!;
      this.values[at + k] = v === null ? NaN : v;
    }
  }

  get(row: number): Array<number | null> {
    const at = this.start === null ? row * this.stride : this.start[row]!;
    const n = this.start === null ? this.stride : this.length[row]!;
    const out = new Array<number | null>(n);
    for (let k = 0; k < n; k++) {
      const v = this.values[at + k]!;
      out[k] = Number.isNaN(v) ? null : v;
    }
    return out;
  }

  /** From row `row` on, a start and a length per row (the rows before keep their places at r × stride). */
  private unstride(row: number): void {
    const start = new Int32Array(Math.max(row + 1, this.rows));
    let length: IntColumn = new Int8Array(start.length);
    for (let r = 0; r < row; r++) {
      start[r] = r * this.stride;
      length = put(length, r, this.stride);
    }
    this.start = start;
    this.length = length;
    this.used = row * this.stride;
  }

  /** Room for `n` values: `planned` at once when that is enough, else grown by half. */
  private room(n: number, planned: number): void {
    if (n <= this.values.length) return;
    this.values = planned >= n ? exactly(this.values, planned) : grownByHalf(this.values, n);
  }
}

export interface RecordTableOptions {
  /** keep each row's response text (generation analysis, the CSV export, the sample search); default false */
  responses?: boolean;
  /** the planned items: each row's gold rank is computed with its item as it is added (see `index`) */
  items?: readonly Item[];
  /** rows to allocate the columns for at once (they still grow past it) */
  rows?: number;
}

export class RecordTable {
  /** rows so far */
  size = 0;
  readonly keepsResponses: boolean;
  private readonly itemIds: string[] = [];
  private readonly itemIndex = new Map<string, number>();
  private readonly strings = new Interned<string>();
  private readonly answers = new Interned<ParsedAnswer>();
  private readonly errors = new Interned<{ code: string; message: string }>();
  /** cells in first-seen order; a row's cell column indexes this */
  readonly cells: CellRecords[] = [];
  private readonly cellIndex = new Map<string, Map<number, number>>();
  /** conditions in first-seen order */
  readonly conditions: string[] = [];

  private item = new Int32Array(0);
  private cellOf: IntColumn = new Int8Array(0);
  private answer: IntColumn = new Int8Array(0);
  private answerFirst: IntColumn = new Int8Array(0);
  /** -1 null, 0 false, 1 true */
  private correct = new Int8Array(0);
  /** latency in tenths of a millisecond (the runner records it rounded to a tenth); rows whose value is not a whole
   * number of tenths keep it exactly in `latencyExact` (and 0 here) */
  private latency: IntColumn = new Int8Array(0);
  private readonly latencyExact = new Map<number, number>();
  private attempts: IntColumn = new Int8Array(0);
  private cached = new Uint8Array(0);
  /** index into strings, -1 absent */
  private finish: IntColumn = new Int8Array(0);
  /** index into errors, -1 none */
  private error: IntColumn = new Int8Array(0);
  /** the row's gold rank (goldRankOf with its item), 0 = null */
  private rank: IntColumn = new Int8Array(0);
  /** the rank's method, censored, and whether the row's record must remember it (see the bits above) */
  private rankInfo = new Uint8Array(0);
  private readonly items: readonly Item[] | undefined;
  /** the items by id the ranks were computed with; a run index over these same items reads the ranks as they are */
  private readonly rankItems: Map<string, Item> | undefined;
  /** option scores: 0 none, else method index + 1 */
  private osMethod = new Uint8Array(0);
  /** option scores' goldRank, -1 null */
  private osGold: IntColumn = new Int8Array(0);
  private readonly logprobs: OptionLogprobs;
  private readonly osExtras = new Map<number, OptionExtras>();
  private readonly probes = new Map<number, Record<string, ProbeScores>>();
  private readonly scores = new Map<number, Record<string, ResponseScore>>();
  private readonly responses: string[] = [];

  constructor(opts: RecordTableOptions = {}) {
    this.keepsResponses = opts.responses === true;
    this.items = opts.items;
    this.rankItems = opts.items ? new Map(opts.items.map((i) => [i.id, i])) : undefined;
    const rows = opts.rows !== undefined && opts.rows > 0 ? opts.rows : 0;
    if (rows > 0) this.reserve(rows, true);
    this.logprobs = new OptionLogprobs(rows);
  }

  /** The table index of an item id (added when new). */
  itemIndexOf(id: string): number {
    let i = this.itemIndex.get(id);
    if (i === undefined) {
      i = this.itemIds.length;
      this.itemIds.push(id);
      this.itemIndex.set(id, i);
    }
    return i;
  }

  /** The table index of an item id, or -1 when no row names it. */
  findItem(id: string): number {
    return this.itemIndex.get(id) ?? -1;
  }

  itemId(i: number): string {
    return this.itemIds[i]!;
  }

  private share(s: string): number {
    return this.strings.id(s, () => s);
  }

  private answerId(a: ParsedAnswer | null | undefined): number {
    if (a === undefined) return ANSWER_ABSENT;
    if (a === null) return ANSWER_NULL;
    return this.answers.id(`${a.index}\u0000${a.label}`, () => ({ index: a.index, label: this.strings.values[this.share(a.label)]! }));
  }

  private cellFor(condition: string, round: number): number {
    let byRound = this.cellIndex.get(condition);
    if (!byRound) {
      this.cellIndex.set(condition, (byRound = new Map()));
      this.conditions.push(condition);
    }
    let c = byRound.get(round);
    if (c === undefined) {
      c = this.cells.length;
      this.cells.push(new CellRecords(this, condition, round, this.items?.length ?? 0));
      byRound.set(round, c);
    }
    return c;
  }

  /** Adds one record (a whole one: its top-k alternatives give its rank where its option scores do not). */
  add(r: RoundRecord): number {
    const row = this.size;
    if (row >= this.item.length) this.reserve(row + 1);
    const itemIx = this.itemIndexOf(r.itemId);
    const c = this.cellFor(r.condition, r.round);
    this.item[row] = itemIx;
    this.cellOf = put(this.cellOf, row, c);
    this.answer = put(this.answer, row, this.answerId(r.answer));
    this.answerFirst = put(this.answerFirst, row, this.answerId(r.answerFirstOption));
    this.correct[row] = r.correct === null ? -1 : r.correct ? 1 : 0;
    const tenths = Math.round(r.latencyMs * 10);
    const whole = tenths / 10 === r.latencyMs && !Object.is(r.latencyMs, -0) && Math.abs(tenths) <= 0x7fffffff;
    this.latency = put(this.latency, row, whole ? tenths : 0);
    if (!whole) this.latencyExact.set(row, r.latencyMs);
    this.attempts = put(this.attempts, row, r.attempts);
    this.cached[row] = r.cached ? 1 : 0;
    this.finish = put(this.finish, row, r.finishReason === undefined ? -1 : this.share(r.finishReason));
    this.error = put(this.error, row, r.error ? this.errors.id(`${r.error.code}\u0000${r.error.message}`, () => ({ code: this.strings.values[this.share(r.error!.code)]!, message: r.error!.message })) : -1);
    const os = r.optionScores;
    const g = goldRankOf(r, this.rankItems?.get(r.itemId));
    this.rank = put(this.rank, row, g ? g.rank : 0);
    // the row's record must remember a rank read from its top-k alternatives (they are not kept); a recorded exact
    // or label-logprob rank is what goldRankOf returns before it looks at them, and the option scores give it again
    const remember = r.topLogprobs !== undefined && !(os && os.method !== 'approximate' && os.goldRank !== null);
    this.rankInfo[row] = (g ? METHODS.indexOf(g.method) | (g.censored ? CENSORED : 0) : 0) | (remember ? REMEMBER : 0);
    if (os) {
      this.osMethod[row] = METHODS.indexOf(os.method) + 1;
      this.osGold = put(this.osGold, row, os.goldRank === null ? -1 : os.goldRank);
      this.logprobs.set(row, os.logprobs);
      if (os.tokenCounts !== undefined || os.aggregate !== undefined) {
        const extras: OptionExtras = {};
        if (os.tokenCounts !== undefined) extras.tokenCounts = os.tokenCounts;
        if (os.aggregate !== undefined) extras.aggregate = os.aggregate;
        this.osExtras.set(row, extras);
      }
    } else this.osMethod[row] = 0;
    if (r.probes) this.probes.set(row, r.probes);
    if (r.scores) {
      const scores: Record<string, ResponseScore> = {};
      for (const [k, s] of Object.entries(r.scores)) {
        const key = this.strings.values[this.share(k)]!;
        scores[key] = { ...s, scorer: this.strings.values[this.share(s.scorer)]!, version: this.strings.values[this.share(s.version)]! };
      }
      this.scores.set(row, scores);
    }
    if (this.keepsResponses) this.responses.push(r.response);
    this.cells[c]!.put(itemIx, row);
    this.size++;
    return row;
  }

  /** Room for `n` rows: exactly `n` when `exact`, else grown by half. */
  private reserve(n: number, exact = false): void {
    const grown = exact ? exactly : grownByHalf;
    this.item = grown(this.item, n);
    this.cellOf = grown(this.cellOf, n);
    this.answer = grown(this.answer, n);
    this.answerFirst = grown(this.answerFirst, n);
    this.correct = grown(this.correct, n);
    this.latency = grown(this.latency, n);
    this.attempts = grown(this.attempts, n);
    this.cached = grown(this.cached, n);
    this.finish = grown(this.finish, n);
    this.error = grown(this.error, n);
    this.rank = grown(this.rank, n);
    this.rankInfo = grown(this.rankInfo, n);
    this.osMethod = grown(this.osMethod, n);
    this.osGold = grown(this.osGold, n);
  }

  /** The item index of a row. */
  itemOf(row: number): number {
    return this.item[row]!;
  }

  /** The row as a record object (slim: no conversation, prefill or timestamp; response only when kept). */
  record(row: number): RoundRecord {
    const cell = this.cells[this.cellOf[row]!]!;
    const a = this.answer[row]!;
    const correct = this.correct[row]!;
    const r: RoundRecord = {
      itemId: this.itemIds[this.item[row]!]!,
      condition: cell.condition,
      round: cell.round,
      messages: NO_MESSAGES,
      prefill: '',
      response: this.keepsResponses ? this.responses[row]! : '',
      answer: a >= 0 ? this.answers.values[a]! : null,
      correct: correct < 0 ? null : correct === 1,
      latencyMs: this.latencyExact.size > 0 && this.latencyExact.has(row) ? this.latencyExact.get(row)! : this.latency[row]! / 10,
      attempts: this.attempts[row]!,
      cached: this.cached[row] === 1,
      at: '',
    };
    const af = this.answerFirst[row]!;
    if (af !== ANSWER_ABSENT) r.answerFirstOption = af >= 0 ? this.answers.values[af]! : null;
    const f = this.finish[row]!;
    if (f >= 0) r.finishReason = this.strings.values[f]!;
    const m = this.osMethod[row]!;
    if (m > 0) {
      const logprobs = this.logprobs.get(row);
      const gold = this.osGold[row]!;
      const os: OptionScores = { method: METHODS[m - 1]!, logprobs, goldRank: gold < 0 ? null : gold };
      const extras = this.osExtras.get(row);
      if (extras) Object.assign(os, extras);
      r.optionScores = os;
    }
    const probes = this.probes.get(row);
    if (probes) r.probes = probes;
    const scores = this.scores.get(row);
    if (scores) r.scores = scores;
    const e = this.error[row]!;
    if (e >= 0) r.error = this.errors.values[e]!;
    if (this.rankInfo[row]! & REMEMBER) rememberGoldRank(r, this.goldRank(row));
    return r;
  }

  /** The row's `correct`, as its record has it. */
  correctAt(row: number): boolean | null {
    const c = this.correct[row]!;
    return c < 0 ? null : c === 1;
  }

  /** The row's gold rank, as goldRankOf gives it for the row's record and item. */
  goldRank(row: number): GoldRank | null {
    const rank = this.rank[row]!;
    if (rank === 0) return null;
    const info = this.rankInfo[row]!;
    return { rank, method: METHODS[info & 3]!, censored: (info & CENSORED) !== 0 };
  }

  /** True when the run index's items are those the ranks were computed with (the same map `index` gave it). */
  ranksFor(items: ReadonlyMap<string, Item>): boolean {
    return this.rankItems !== undefined && items === this.rankItems;
  }

  /** Every row as a record, in file order (duplicates of a cell's item included, as in the file). */
  *records(): IterableIterator<RoundRecord> {
    for (let row = 0; row < this.size; row++) yield this.record(row);
  }

  /** The cells by condition and round, in first-seen order (the shape of RunIndex.cells). */
  cellMaps(): Map<string, Map<number, CellRecords>> {
    const out = new Map<string, Map<number, CellRecords>>();
    for (const [condition, byRound] of this.cellIndex) out.set(condition, new Map([...byRound].map(([round, c]) => [round, this.cells[c]!])));
    return out;
  }

  /** Orders every cell's items as indexRun does (inItemOrder: the plan's order, then other ids sorted). */
  private putCellsInItemOrder(items: readonly Item[]): void {
    const position = plannedPositions(items);
    const key = new Float64Array(this.itemIds.length);
    const other: number[] = [];
    this.itemIds.forEach((id, ix) => {
      const p = position.get(id);
      if (p === undefined) other.push(ix);
      else key[ix] = p;
    });
    const ordered = inItemOrder(new Map(), other.map((ix) => this.itemIds[ix]!));
    ordered.forEach((id, k) => (key[this.itemIndex.get(id)!] = items.length + k));
    for (const c of this.cells) c.sortItems(key);
  }

  /** The run index over this table: the same conditions, kinds, cells and items indexRun gives from the records. */
  index(items: readonly Item[], experiment?: Experiment): RunIndex {
    const conditions = experiment ? experiment.conditions.map((c) => c.name) : [];
    const kinds = new Map<string, ConditionKind>(experiment?.conditions.map((c) => [c.name, c.kind]) ?? []);
    for (const c of this.conditions) {
      if (!conditions.includes(c)) conditions.push(c);
      if (!kinds.has(c)) kinds.set(c, guessKind(c));
    }
    this.putCellsInItemOrder(items);
    const cells = this.cellMaps();
    // the same items as the ranks': the same map, which tells cellRanks it may read them from the table
    const itemMap = items === this.items && this.rankItems ? this.rankItems : new Map(items.map((i) => [i.id, i]));
    const task = experiment?.task ?? (items.length > 0 && items.every((i) => i.kind === 'generation') ? 'generation' : 'mcq');
    return { conditions: conditions.filter((c) => cells.has(c)), kinds, cells, items: itemMap, task };
  }
}

/**
 * One condition × round of a RecordTable, read as a map itemId → record (the last row of each item wins; items in
 * the order they first appeared, then, once the table is indexed, in the plan's: see inItemOrder). Each read builds a
 * fresh record object; nothing is cached.
 */
export class CellRecords implements ReadonlyMap<string, RoundRecord> {
  /** table item index → row, -1 absent */
  private rowOf = new Int32Array(0);
  /** table item indices in first-seen order */
  private order = new Int32Array(0);
  size = 0;

  /** `items`: the items expected (the planned ones), to allocate the cell's tables once at that size (0: grown) */
  constructor(
    private readonly table: RecordTable,
    readonly condition: string,
    readonly round: number,
    items = 0,
  ) {
    if (items > 0) {
      this.rowOf = new Int32Array(items).fill(-1);
      this.order = new Int32Array(items);
    }
  }

  put(itemIx: number, row: number): void {
    if (itemIx >= this.rowOf.length) {
      const before = this.rowOf.length;
      this.rowOf = grownByHalf(this.rowOf, itemIx + 1);
      this.rowOf.fill(-1, before);
    }
    if (this.rowOf[itemIx] === -1) {
      this.order = grownByHalf(this.order, this.size + 1);
      this.order[this.size++] = itemIx;
    }
    this.rowOf[itemIx] = row;
  }

  /** Puts the cell's items in the order of `key` (by table item index). */
  sortItems(key: Float64Array): void {
    this.order.subarray(0, this.size).sort((a, b) => key[a]! - key[b]!);
  }

  /** The row of a table item index in this cell, or -1. */
  rowAt(itemIx: number): number {
    return itemIx >= 0 && itemIx < this.rowOf.length ? this.rowOf[itemIx]! : -1;
  }

  get(id: string): RoundRecord | undefined {
    const row = this.rowAt(this.table.findItem(id));
    return row >= 0 ? this.table.record(row) : undefined;
  }

  has(id: string): boolean {
    return this.rowAt(this.table.findItem(id)) >= 0;
  }

  /** `get(id)?.correct`, read from the column without building the record. */
  correctOf(id: string): boolean | null | undefined {
    const row = this.rowAt(this.table.findItem(id));
    return row >= 0 ? this.table.correctAt(row) : undefined;
  }

  *keys(): MapIterator<string> {
    for (let k = 0; k < this.size; k++) yield this.table.itemId(this.order[k]!);
  }

  *values(): MapIterator<RoundRecord> {
    for (let k = 0; k < this.size; k++) yield this.table.record(this.rowOf[this.order[k]!]!);
  }

  *entries(): MapIterator<[string, RoundRecord]> {
    for (let k = 0; k < this.size; k++) {
      const ix = this.order[k]!;
      yield [this.table.itemId(ix), this.table.record(this.rowOf[ix]!)];
    }
  }

  [Symbol.iterator](): MapIterator<[string, RoundRecord]> {
    return this.entries();
  }

  forEach(fn: (value: RoundRecord, key: string, map: ReadonlyMap<string, RoundRecord>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  /**
   * The cell's gold ranks by item (what cellRanks computes from its records), read from the table's rank columns
   * when `items` are those the table ranked with; else null.
   */
  ranks(items: ReadonlyMap<string, Item>): ReadonlyMap<string, GoldRank> | null {
    return this.table.ranksFor(items) ? new CellRanks(this.table, this.rowOf, this.order, this.size) : null;
  }
}

/** One cell's gold ranks by item, read from the table (items without a rank left out, first-seen order). */
class CellRanks implements ReadonlyMap<string, GoldRank> {
  private count = -1;

  constructor(
    private readonly table: RecordTable,
    private readonly rowOf: Int32Array,
    private readonly order: Int32Array,
    private readonly cellSize: number,
  ) {}

  private rowAt(itemIx: number): number {
    return itemIx >= 0 && itemIx < this.rowOf.length ? this.rowOf[itemIx]! : -1;
  }

  get size(): number {
    if (this.count < 0) {
      this.count = 0;
      for (let k = 0; k < this.cellSize; k++) if (this.table.goldRank(this.rowOf[this.order[k]!]!)) this.count++;
    }
    return this.count;
  }

  get(id: string): GoldRank | undefined {
    const row = this.rowAt(this.table.findItem(id));
    return row >= 0 ? (this.table.goldRank(row) ?? undefined) : undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  *entries(): MapIterator<[string, GoldRank]> {
    for (let k = 0; k < this.cellSize; k++) {
      const ix = this.order[k]!;
      const g = this.table.goldRank(this.rowOf[ix]!);
      if (g) yield [this.table.itemId(ix), g];
    }
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<GoldRank> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, GoldRank]> {
    return this.entries();
  }

  forEach(fn: (value: GoldRank, key: string, map: ReadonlyMap<string, GoldRank>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** Records as analysis takes them: whole or slim record objects, or a table. */
export type Records = readonly RoundRecord[] | RecordTable;

/** The run index of records of either shape (indexRun for objects, the table's own index for a table). */
export function indexRecords(records: Records, items: readonly Item[], experiment?: Experiment): RunIndex {
  return records instanceof RecordTable ? records.index(items, experiment) : indexRun(records, items, experiment);
}

/** Every record in file order (a table builds each row's object as it goes). */
export function eachRecord(records: Records): Iterable<RoundRecord> {
  return records instanceof RecordTable ? records.records() : records;
}

export function recordCount(records: Records): number {
  return records instanceof RecordTable ? records.size : records.length;
}
