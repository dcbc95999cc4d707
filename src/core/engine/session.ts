// What callers do with a loaded model: generate text, score continuations exactly, read hidden states.
//
// Without a prefix cache each call starts from an empty KV cache (the three-pass path: a round's prompt is prefilled
// once to read its hidden states, once to generate, once to score its options). With one (RunControl.prefixCache),
// a prompt is prefilled once: that pass captures every module at its last token and keeps the logits there, so the
// probes' hidden states, the generation and the option branches all start from it, and later rounds of the chain
// prefill only their new tokens. Results agree with the cacheless path up to float rounding (the prefill is split
// into other batches); test/engine/prefix-cache.test.ts holds the two paths to that.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { cancelledError, SclabError } from '../model/errors';
import { type CaptureOptions, HIDDEN_MODULES, type HiddenStates } from './capture';
import { logSoftmaxAt, rmsnorm } from './kernels';
import { topLogprobs } from './ops';
import type { Intervention } from './intervention';
import type { PrefixCache, PromptTail } from './prefix-cache';
import { Sampler } from './sampler';
import { ForwardState } from './transformer';
import type { LoadedModel, ModelWeights } from './types';

export interface RunControl {
  signal?: AbortSignal;
  /** polled between tokens and layers (the worker's shared abort flag) */
  isAborted?: () => boolean;
  /** reuse (and keep) prompts' keys and values across calls; absent = every call starts from an empty cache */
  prefixCache?: PrefixCache | null;
  /** steering or ablation during every forward pass of the call (compiled; null = none) */
  intervention?: Intervention | null;
}

/** the prefix-cache namespace of a call: passes under different interventions never share keys and values */
function namespaceOf(ctl: RunControl): string {
  return ctl.intervention ? `iv:${ctl.intervention.key}` : '';
}

export interface GenerateOptions extends RunControl {
  maxTokens: number;
  /** 0 = greedy */
  temperature?: number;
  topP?: number;
  /** PRNG seed for sampling; a random one is drawn (and reported) when absent */
  seed?: number;
  /** generation ends at the first of these in the decoded text; the text is cut before it */
  stop?: string[];
  /** keep going past end-of-sequence tokens (fixed-length runs: benchmarks, cancellation tests) */
  ignoreEos?: boolean;
  /** alternatives to report per generated token (0 = none) */
  topLogprobs?: number;
  /** called after each token with the text it added (held back while a UTF-8 sequence is incomplete) */
  onToken?: (token: { id: number; text: string }) => void;
}

/** 'eos': the model ended; 'stop': a stop sequence matched; 'length': maxTokens or the context ran out */
export type FinishReason = 'eos' | 'stop' | 'length';

export interface TokenAlternative {
  id: number;
  token: string;
  logprob: number;
}

export interface GenerateResult {
  /** generated ids, without the end-of-sequence token; after a stop sequence, up to the token that completed it */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  /** log-probability of each generated token under the unmodified (temperature 1) distribution */
  logprobs: number[];
  /** top alternatives of each generated token, when asked for */
  topLogprobs?: TokenAlternative[][];
  seed: number;
  promptTokens: number;
}

export interface ContinuationScore {
  /** log-probability of each continuation token given everything before it */
  logprobs: number[];
  total: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Forward states (KV cache + activation buffers) are pooled per model so repeated calls reuse their memory.

const pools = new WeakMap<ModelWeights, ForwardState[]>();

function acquire(weights: ModelWeights): ForwardState {
  const pool = pools.get(weights) ?? [];
  pools.set(weights, pool);
  const s = pool.pop() ?? new ForwardState(weights);
  s.reset();
  return s;
}

function release(s: ForwardState): void {
  pools.get(s.weights)?.push(s);
}

function abortCheck(ctl: RunControl): () => boolean {
  const { signal, isAborted } = ctl;
  return () => signal?.aborted === true || isAborted?.() === true;
}

/** lets timers and abort events run during long in-process work; cheap enough to call every token */
function makeYielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < 15) return;
    await nextTurn();
    last = performance.now();
  };
}

function requirePrompt(ids: number[], what: string): void {
  if (ids.length === 0) throw new SclabError('bad_request', `${what} is empty: at least one token (e.g. BOS) is needed to predict from`);
}

// ---------------------------------------------------------------------------------------------------------------

/** Text the generated ids add after the prompt: decoded together with the prompt's tail so spacing rules apply. */
function makeTextDecoder(model: LoadedModel, promptIds: number[]): (gen: number[]) => string {
  const tail = promptIds.slice(-4);
  const before = model.tokenizer.decode(tail);
  return (gen) => {
    const all = model.tokenizer.decode(tail.concat(gen));
    return all.startsWith(before) ? all.slice(before.length) : model.tokenizer.decode(gen);
  };
}

export async function generate(model: LoadedModel, promptIds: number[], opts: GenerateOptions): Promise<GenerateResult> {
  requirePrompt(promptIds, 'the prompt');
  const { vocabSize, maxSeqLen } = model.weights.config;
  if (!(opts.maxTokens >= 0)) throw new SclabError('bad_request', `maxTokens ${opts.maxTokens} must be ≥ 0`);
  const temperature = opts.temperature ?? 0;
  if (!(temperature >= 0)) throw new SclabError('bad_request', `temperature ${temperature} must be ≥ 0`);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const sampler = new Sampler(vocabSize, temperature, opts.topP ?? 1, seed);
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const k = Math.max(0, Math.floor(opts.topLogprobs ?? 0));
  const eos = new Set(opts.ignoreEos ? [] : model.tokenizer.eosIds);
  const aborted = abortCheck(opts);
  const pause = makeYielder();
  const textOf = makeTextDecoder(model, promptIds);
  const tokenText = (id: number): string => model.tokenizer.decode([id]);

  const tokens: number[] = [];
  const logprobs: number[] = [];
  const alternatives: TokenAlternative[][] = [];
  let finishReason: FinishReason = 'length';
  let text: string | null = null;
  let emitted = '';
  const next = new Int32Array(1);
  const state = acquire(model.weights);
  const cache = opts.prefixCache ?? null;
  try {
    if (aborted()) throw cancelledError();
    const intervention = opts.intervention ?? null;
    let logits = cache ? prefillCached(model, state, promptIds, { cache, aborted, intervention, withState: true }).logits : state.forward(promptIds, { isAborted: aborted, intervention }).logits;
    while (tokens.length < opts.maxTokens) {
      const id = sampler.sample(logits, 0);
      if (eos.has(id)) {
        finishReason = 'eos';
        break;
      }
      tokens.push(id);
      logprobs.push(logSoftmaxAt(logits, 0, vocabSize, id));
      if (k > 0) alternatives.push(topLogprobs(logits, 0, vocabSize, k).map((a) => ({ ...a, token: tokenText(a.id) })));
      if (stops.length > 0 || opts.onToken) {
        const now = textOf(tokens);
        const cut = firstStop(now, stops, emitted.length);
        if (cut >= 0) {
          text = now.slice(0, cut);
          finishReason = 'stop';
        }
        const stable = (text ?? now).replace(/\uFFFD+$/, '');
        if (opts.onToken && stable.length > emitted.length && stable.startsWith(emitted)) {
          opts.onToken({ id, text: stable.slice(emitted.length) });
          emitted = stable;
        }
        if (cut >= 0) break;
      }
      if (tokens.length >= opts.maxTokens || state.pos >= maxSeqLen) break;
      if (aborted()) throw cancelledError();
      await pause();
      if (aborted()) throw cancelledError();
      next[0] = id;
      logits = state.forward(next, { isAborted: aborted, intervention }).logits;
    }
    // the answer's keys and values: the next round's prompt starts with this conversation
    cache?.insert(promptIds.concat(tokens), state.pos, state, null, namespaceOf(opts));
  } finally {
    release(state);
  }
  const result: GenerateResult = { tokens, text: text ?? textOf(tokens), finishReason, logprobs, seed, promptTokens: promptIds.length };
  if (k > 0) result.topLogprobs = alternatives;
  return result;
}

/** index in text where the earliest stop sequence starts (searching from near `from`), or -1 */
function firstStop(text: string, stops: string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s, Math.max(0, from - s.length));
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Log-likelihood of continuationIds after contextIds, from one forward pass over both. */
export async function scoreContinuation(model: LoadedModel, contextIds: number[], continuationIds: number[], ctl: RunControl = {}): Promise<ContinuationScore> {
  requirePrompt(contextIds, 'the context');
  if (continuationIds.length === 0) return { logprobs: [], total: 0 };
  const V = model.weights.config.vocabSize;
  const aborted = abortCheck(ctl);
  const state = acquire(model.weights);
  try {
    const ids = contextIds.concat(continuationIds.slice(0, -1));
    const { logits } = state.forward(ids, { logitsFrom: contextIds.length - 1, isAborted: aborted, intervention: ctl.intervention ?? null });
    const logprobs = continuationIds.map((id, j) => logSoftmaxAt(logits, j * V, V, id));
    return { logprobs, total: sum(logprobs) };
  } finally {
    release(state);
  }
}

/**
 * Log-likelihood of several continuations after one shared prefix: the prefix runs once, then each continuation
 * runs from the cached prefix. Equal (up to float rounding) to scoreContinuation on each.
 */
export async function scoreContinuations(model: LoadedModel, prefixIds: number[], continuations: number[][], ctl: RunControl = {}): Promise<ContinuationScore[]> {
  requirePrompt(prefixIds, 'the context');
  const V = model.weights.config.vocabSize;
  const aborted = abortCheck(ctl);
  const pause = makeYielder();
  const state = acquire(model.weights);
  const cache = ctl.prefixCache ?? null;
  const intervention = ctl.intervention ?? null;
  const ns = namespaceOf(ctl);
  try {
    // all but the last prefix token: its row is where the first continuation token is predicted
    const head = prefixIds.slice(0, -1);
    const m = cache?.match(head, ns);
    if (cache && m) cache.restore(state, m);
    const rest = head.slice(state.pos);
    state.forward(rest, { logitsFrom: rest.length, isAborted: aborted, intervention });
    if (cache && rest.length > 0) cache.insert(head, head.length, state, null, ns);
    const base = state.pos;
    const last = prefixIds[prefixIds.length - 1]!;
    const out: ContinuationScore[] = [];
    for (const cont of continuations) {
      if (aborted()) throw cancelledError();
      if (cont.length === 0) {
        out.push({ logprobs: [], total: 0 });
        continue;
      }
      state.truncate(base);
      const { logits } = state.forward([last, ...cont.slice(0, -1)], { logitsFrom: 0, isAborted: aborted, intervention });
      const logprobs = cont.map((id, j) => logSoftmaxAt(logits, j * V, V, id));
      out.push({ logprobs, total: sum(logprobs) });
      await pause();
    }
    return out;
  } finally {
    release(state);
  }
}

/** Hidden states of every layer for ids (one forward from an empty cache); see capture.ts for the conventions. */
export async function hiddenStates(model: LoadedModel, ids: number[], opts: CaptureOptions, ctl: RunControl = {}): Promise<HiddenStates> {
  requirePrompt(ids, 'the input');
  if (opts.modules.length === 0) throw new SclabError('bad_request', 'no modules asked for: choose residual, attn and/or mlp');
  const cache = ctl.prefixCache ?? null;
  const state = acquire(model.weights);
  try {
    // the last token's states come with a cached prefill; a mean or every position needs the whole prompt run
    const intervention = ctl.intervention ?? null;
    if (cache && opts.position === 'last') return hiddenFromTail(model, prefillCached(model, state, ids, { cache, aborted: abortCheck(ctl), intervention, withState: false }), ids.length, opts);
    return state.forward(ids, { logitsFrom: ids.length, capture: opts, isAborted: abortCheck(ctl), intervention }).hidden!;
  } finally {
    release(state);
  }
}

/** what every cached prefill captures: each module at the prompt's last token, raw residual stream */
const LAST_TOKEN_ALL_MODULES: CaptureOptions = { position: 'last', modules: HIDDEN_MODULES, convention: 'sclab' };

/**
 * Brings ids into the (empty) state through the prefix cache: the cached prefix is copied in, the rest is run once,
 * capturing the last token's states and logits, and stored. A prompt cached with its tail runs nothing; its keys and
 * values are copied in only when the caller goes on from it (withState).
 */
function prefillCached(
  model: LoadedModel,
  state: ForwardState,
  ids: number[],
  how: { cache: PrefixCache; aborted: () => boolean; intervention: Intervention | null; withState: boolean },
): PromptTail {
  const { cache, aborted, intervention, withState } = how;
  const ns = namespaceOf({ intervention });
  const m = cache.match(ids, ns);
  if (m.tail && m.length === ids.length) {
    if (withState) cache.restore(state, m);
    return m.tail;
  }
  // the last token always runs: its row gives the logits and the captured states
  cache.restore(state, m, Math.min(m.length, ids.length - 1));
  const r = state.forward(ids.slice(state.pos), { capture: LAST_TOKEN_ALL_MODULES, isAborted: aborted, intervention });
  const tail: PromptTail = { logits: r.logits.slice(0, model.weights.config.vocabSize), hidden: r.hidden! };
  cache.insert(ids, ids.length, state, tail, ns);
  return tail;
}

/** the requested modules and convention out of a tail's captures (copies: the tail stays in the cache) */
function hiddenFromTail(model: LoadedModel, tail: PromptTail, nTokens: number, opts: CaptureOptions): HiddenStates {
  const { dim, nLayers, rmsNormEps } = model.weights.config;
  const out: HiddenStates = { position: 'last', convention: opts.convention, dim, nTokens };
  for (const module of new Set(opts.modules)) out[module] = tail.hidden[module]!.map((a) => a.slice());
  if (opts.convention === 'hf' && out.residual) {
    // Hugging Face's last entry is what the LM head reads: the final norm of the last layer's output
    const last = new Float32Array(dim);
    rmsnorm(last, out.residual[nLayers]!, model.weights.finalNorm, 1, dim, rmsNormEps);
    out.residual[nLayers] = last;
  }
  return out;
}

/** next-token logits after ids (a copy) */
export function nextTokenLogits(model: LoadedModel, ids: number[]): Float32Array {
  requirePrompt(ids, 'the input');
  const state = acquire(model.weights);
  try {
    return state.forward(ids).logits.slice(0, model.weights.config.vocabSize);
  } finally {
    release(state);
  }
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
