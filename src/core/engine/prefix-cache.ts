// A token-prefix (radix) cache of attention keys and values, in the spirit of vLLM's automatic prefix caching and
// SGLang's RadixAttention. The keys and values of a token depend only on the tokens before it (attention is
// causal), so a conversation that starts like an earlier one — the next round of a chain, another condition of the
// same item, the option continuations of this round — prefills only what is new.
//
// Each edge of the tree holds a run of tokens with every layer's keys and values for them. A node may also hold the
// "tail" of a prompt that ended exactly there: the logits after its last token and that token's hidden states, so a
// second request on the same prompt (generation after the probes read it) runs no forward pass at all.
//
// Namespaces separate trees whose forward passes differ for the same tokens: a pass under a residual-stream
// intervention (steering) must use the intervention's canonical key as its namespace, never the default ''.
//
// The cache is bounded by a byte budget; least recently used leaves are evicted first and counted.
import { SclabError } from '../model/errors';
import type { HiddenStates } from './capture';
import type { ForwardState } from './transformer';
import type { ModelConfig } from './types';

/** What a forward pass left at the end of a prompt. */
export interface PromptTail {
  /** logits predicting the token after the prompt [vocab] */
  logits: Float32Array;
  /** residual ('sclab' convention), attn and mlp outputs at the prompt's last token */
  hidden: HiddenStates;
}

interface Node {
  tokens: number[];
  /** per layer, tokens.length × kvDim */
  keys: Float32Array[];
  values: Float32Array[];
  children: Map<number, Node>;
  parent: Node | null;
  tail: PromptTail | null;
  lastUsed: number;
}

export interface PrefixCacheStats {
  budgetBytes: number;
  bytes: number;
  peakBytes: number;
  /** lookups, and tokens a lookup found cached (not run again) */
  lookups: number;
  reusedTokens: number;
  /** prompts answered from a stored tail without any forward pass */
  tailHits: number;
  /** tokens stored, and evicted again to stay within the budget */
  storedTokens: number;
  evictions: number;
  evictedTokens: number;
  /** prompts not stored: even after evicting every other leaf they would not fit the budget */
  refusedInserts: number;
}

export interface PrefixMatch {
  /** how many leading tokens of the query are cached */
  length: number;
  /** the tail stored exactly at the end of the query, when the whole query is cached */
  tail: PromptTail | null;
  /** (node, tokens of it used) from the root down */
  path: Array<[Node, number]>;
}

const BYTES_PER_FLOAT = 4;
/** rough per-node bookkeeping on top of the arrays */
const NODE_OVERHEAD = 256;

export class PrefixCache {
  private readonly roots = new Map<string, Node>();
  private readonly kvDim: number;
  private readonly nLayers: number;
  private clock = 0;
  private bytes = 0;
  private readonly s: PrefixCacheStats;

  constructor(
    config: ModelConfig,
    readonly budgetBytes: number,
  ) {
    if (!(budgetBytes >= 0) || !Number.isFinite(budgetBytes)) throw new SclabError('config', `the prefix cache budget must be a number of bytes ≥ 0, got ${budgetBytes}`);
    this.kvDim = config.nKvHeads * config.headDim;
    this.nLayers = config.nLayers;
    this.s = { budgetBytes, bytes: 0, peakBytes: 0, lookups: 0, reusedTokens: 0, tailHits: 0, storedTokens: 0, evictions: 0, evictedTokens: 0, refusedInserts: 0 };
  }

  /** bytes the keys and values of one token take */
  get bytesPerToken(): number {
    return 2 * this.nLayers * this.kvDim * BYTES_PER_FLOAT;
  }

  stats(): PrefixCacheStats {
    return { ...this.s, bytes: this.bytes };
  }

  /** the longest cached prefix of ids (marks it recently used) */
  match(ids: ArrayLike<number>, namespace = ''): PrefixMatch {
    this.s.lookups++;
    const now = ++this.clock;
    const path: Array<[Node, number]> = [];
    let node = this.roots.get(namespace);
    let at = 0;
    let tail: PromptTail | null = null;
    if (node) node.lastUsed = now;
    while (node && at < ids.length) {
      const child = node.children.get(ids[at]!);
      if (!child) break;
      let n = 0;
      while (n < child.tokens.length && at + n < ids.length && child.tokens[n] === ids[at + n]) n++;
      child.lastUsed = now;
      path.push([child, n]);
      at += n;
      if (n < child.tokens.length) break;
      if (at === ids.length) tail = child.tail;
      node = child;
    }
    this.s.reusedTokens += at;
    if (tail) this.s.tailHits++;
    return { length: at, tail, path };
  }

  /** copies the first `upTo` tokens of a match into an empty state's KV cache */
  restore(state: ForwardState, m: PrefixMatch, upTo = m.length): void {
    if (state.pos !== 0) throw new SclabError('internal', 'restore needs an empty forward state');
    if (upTo > m.length) throw new SclabError('internal', `cannot restore ${upTo} tokens of a ${m.length}-token match`);
    let left = upTo;
    for (const [node, n] of m.path) {
      if (left === 0) break;
      const take = Math.min(n, left);
      state.appendKv(node.keys, node.values, take);
      left -= take;
    }
  }

  /**
   * Stores the keys and values of ids[0 … n) from state (which holds at least n positions of exactly these tokens),
   * and the tail at position n when given. Evicts least recently used leaves beyond the budget afterwards.
   */
  insert(ids: ArrayLike<number>, n: number, state: ForwardState, tail: PromptTail | null = null, namespace = ''): void {
    if (n > state.pos || n > ids.length) throw new SclabError('internal', `cannot cache ${n} tokens from a state of ${state.pos}`);
    if (n === 0) return;
    const now = ++this.clock;
    // room first, so that the cache never holds more than its budget: what this insert adds, with its path marked
    // as just used so that making room never evicts it; what cannot fit even then is not stored
    if (!this.makeRoom(this.bytesToInsert(ids, n, tail, namespace, now), now)) {
      this.s.refusedInserts++;
      return;
    }
    let node = this.roots.get(namespace);
    if (!node) {
      node = this.newNode([], null, [], []);
      this.roots.set(namespace, node);
    }
    node.lastUsed = now;
    let at = 0;
    while (at < n) {
      const child: Node | undefined = node.children.get(ids[at]!);
      if (!child) {
        const tokens = Array.from({ length: n - at }, (_, i) => ids[at + i]!);
        const kv = state.readKv(at, n);
        const leaf = this.newNode(tokens, node, kv.keys, kv.values);
        node.children.set(tokens[0]!, leaf);
        leaf.lastUsed = now;
        this.s.storedTokens += tokens.length;
        node = leaf;
        at = n;
        break;
      }
      let k = 0;
      while (k < child.tokens.length && at + k < n && child.tokens[k] === ids[at + k]) k++;
      if (k < child.tokens.length) this.split(child, k);
      child.lastUsed = now;
      node = child;
      at += k;
    }
    if (tail) {
      if (node.tail === null) this.bytes += tailBytes(tail);
      else this.bytes += tailBytes(tail) - tailBytes(node.tail);
      node.tail = tail;
    }
    this.evict();
    this.s.peakBytes = Math.max(this.s.peakBytes, this.bytes);
  }

  /** drops everything (the memory goes back to the garbage collector) */
  clear(): void {
    this.roots.clear();
    this.bytes = 0;
  }

  private newNode(tokens: number[], parent: Node | null, keys: Float32Array[], values: Float32Array[]): Node {
    const node: Node = { tokens, keys, values, children: new Map(), parent, tail: null, lastUsed: this.clock };
    this.bytes += tokens.length * this.bytesPerToken + NODE_OVERHEAD;
    return node;
  }

  /** splits node after its first k tokens: node keeps them, a new child takes the rest (and the children, tail) */
  private split(node: Node, k: number): void {
    const d = k * this.kvDim;
    const rest: Node = {
      tokens: node.tokens.slice(k),
      keys: node.keys.map((a) => a.slice(d)),
      values: node.values.map((a) => a.slice(d)),
      children: node.children,
      parent: node,
      tail: node.tail,
      lastUsed: node.lastUsed,
    };
    for (const c of rest.children.values()) c.parent = rest;
    node.tokens = node.tokens.slice(0, k);
    node.keys = node.keys.map((a) => a.slice(0, d));
    node.values = node.values.map((a) => a.slice(0, d));
    node.children = new Map([[rest.tokens[0]!, rest]]);
    node.tail = null;
    this.bytes += NODE_OVERHEAD;
  }

  /** the bytes insert() would add (new nodes, a split, the tail), marking the cached part of its path used at `now` */
  private bytesToInsert(ids: ArrayLike<number>, n: number, tail: PromptTail | null, namespace: string, now: number): number {
    let node = this.roots.get(namespace);
    let bytes = node ? 0 : NODE_OVERHEAD;
    let at = 0;
    if (node) node.lastUsed = now;
    while (node && at < n) {
      const child: Node | undefined = node.children.get(ids[at]!);
      if (!child) break;
      let k = 0;
      while (k < child.tokens.length && at + k < n && child.tokens[k] === ids[at + k]) k++;
      child.lastUsed = now;
      at += k;
      if (k < child.tokens.length) {
        bytes += NODE_OVERHEAD; // a split
        node = at === n ? child : undefined;
        break;
      }
      node = child;
    }
    if (at < n) bytes += (n - at) * this.bytesPerToken + NODE_OVERHEAD;
    // the tail replaces one stored at the same node: count it whole (never less than what the insert needs)
    if (tail) bytes += tailBytes(tail);
    return bytes;
  }

  /** evicts least recently used leaves until `bytes` more fit, sparing what was used at `now`; false: they cannot fit */
  private makeRoom(bytes: number, now: number): boolean {
    while (this.bytes + bytes > this.budgetBytes) {
      const victim = this.oldestLeaf();
      if (!victim || victim.lastUsed >= now) return false;
      this.drop(victim);
    }
    return true;
  }

  private drop(victim: Node): void {
    victim.parent!.children.delete(victim.tokens[0]!);
    this.bytes -= victim.tokens.length * this.bytesPerToken + NODE_OVERHEAD + (victim.tail ? tailBytes(victim.tail) : 0);
    this.s.evictions++;
    this.s.evictedTokens += victim.tokens.length;
  }

  /** a safety net after an insert (its estimate is an upper bound, so this finds nothing to do) */
  private evict(): void {
    while (this.bytes > this.budgetBytes) {
      const victim = this.oldestLeaf();
      if (!victim) return;
      this.drop(victim);
    }
  }

  private oldestLeaf(): Node | null {
    let best: Node | null = null;
    const visit = (n: Node): void => {
      if (n.children.size === 0) {
        if (n.parent && (!best || n.lastUsed < best.lastUsed)) best = n;
        return;
      }
      for (const c of n.children.values()) visit(c);
    };
    for (const root of this.roots.values()) visit(root);
    return best;
  }
}

function tailBytes(t: PromptTail): number {
  let n = t.logits.length;
  for (const arrays of [t.hidden.residual, t.hidden.attn, t.hidden.mlp]) for (const a of arrays ?? []) n += a.length;
  return n * BYTES_PER_FLOAT;
}
