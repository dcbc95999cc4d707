// Executes protocol requests against a loaded model; shared by the worker thread and the in-process mode.
import { SclabError } from '../model/errors';
import { compileIntervention, type InterventionSpec } from './intervention';
import { PrefixCache } from './prefix-cache';
import type { EngineInfo, EngineRequest, PrefixCacheOption, StreamedToken, WorkerStats } from './protocol';
import { arenaId, arenaMemoryOf, arenaUsedBytes, describeKernels, HalfMatrix } from './kernels-wasm';
import { weightBytes } from './shared-weights';
import { generate, hiddenStates, scoreContinuations } from './session';
import type { LoadedModel, Tokenizer } from './types';

/** A loaded model with what serving it keeps between requests. */
export interface HostedModel {
  model: LoadedModel;
  /** null: every request starts from an empty KV cache (the three-pass path) */
  prefixCache: PrefixCache | null;
  /** model requests (generate, score, hidden) answered, and the seconds spent on them */
  served: { requests: number; seconds: number };
}

/** 512 MiB of keys and values: ~11 000 tokens of SmolLM2-135M, ~43 000 of Qwen2.5-0.5B (f32) */
export const DEFAULT_PREFIX_CACHE_BYTES = 512 * 2 ** 20;

export function hostModel(model: LoadedModel, option: PrefixCacheOption | undefined): HostedModel {
  const budget = option === false ? null : (option?.budgetBytes ?? DEFAULT_PREFIX_CACHE_BYTES);
  return { model, prefixCache: budget === null ? null : new PrefixCache(model.weights.config, budget), served: { requests: 0, seconds: 0 } };
}

export function engineStats(hosted: HostedModel): WorkerStats {
  const w = hosted.model.weights;
  const first = w.tokenEmbedding instanceof HalfMatrix ? w.tokenEmbedding.bits : w.tokenEmbedding;
  const memory = arenaMemoryOf(first);
  return {
    served: { ...hosted.served },
    prefixCache: hosted.prefixCache?.stats() ?? null,
    memory: memory ? { arenaId: arenaId(memory), weightBytes: weightBytes(w), arenaUsedBytes: arenaUsedBytes(memory), arenaBytes: memory.buffer.byteLength } : null,
  };
}

export function engineInfo(model: LoadedModel): EngineInfo {
  const first = model.weights.tokenEmbedding;
  return {
    identity: model.identity,
    config: model.weights.config,
    chatFormat: model.chat.name,
    addBos: model.addBos,
    bosId: model.tokenizer.bosId,
    eosIds: model.tokenizer.eosIds,
    kernels: describeKernels(arenaMemoryOf(first instanceof HalfMatrix ? first.bits : first)),
  };
}

/**
 * Ids of a text as the serving engines tokenize a rendered chat: special tokens written in the text (a template's
 * BOS) map to their ids, nothing is added automatically, and BOS goes in front only when the text did not bring it.
 */
export function tokenizeText(tokenizer: Tokenizer, text: string, addBos: boolean): number[] {
  const ids = tokenizer.encode(text);
  const bos = tokenizer.bosId;
  return addBos && bos !== null && ids[0] !== bos ? [bos, ...ids] : ids;
}

/** positions of special tokens (BOS, template markers): 'mean' leaves them out */
function specialPositions(model: LoadedModel, ids: number[]): number[] {
  const special = model.tokenizer.specialIds;
  return ids.flatMap((id, i) => (special.has(id) ? [i] : []));
}

export interface HostControl {
  isAborted: () => boolean;
  onToken?: (t: StreamedToken) => void;
}

export async function handleRequest(hosted: HostedModel, req: EngineRequest, ctl: HostControl): Promise<unknown> {
  if (req.op !== 'generate' && req.op !== 'score' && req.op !== 'hidden') return answer(hosted, req, ctl);
  const t0 = performance.now();
  try {
    return await answer(hosted, req, ctl);
  } finally {
    hosted.served.requests++;
    hosted.served.seconds += (performance.now() - t0) / 1000;
  }
}

async function answer(hosted: HostedModel, req: EngineRequest, ctl: HostControl): Promise<unknown> {
  const { model, prefixCache } = hosted;
  const { nLayers, dim } = model.weights.config;
  const steer = (spec: InterventionSpec | undefined) => compileIntervention(spec, { nLayers, dim });
  switch (req.op) {
    case 'info':
      return engineInfo(model);
    case 'stats':
      return engineStats(hosted);
    case 'tokenize':
      return req.texts.map((t) => tokenizeText(model.tokenizer, t, req.addBos));
    case 'decode':
      return model.tokenizer.decode(req.ids);
    case 'render':
      return model.chat.render(req.messages, req.prefill);
    case 'generate': {
      const opts = { ...req.params, isAborted: ctl.isAborted, prefixCache, intervention: steer(req.intervention) };
      return generate(model, req.promptIds, req.stream && ctl.onToken ? { ...opts, onToken: ctl.onToken } : opts);
    }
    case 'score':
      return scoreContinuations(model, req.prefixIds, req.continuations, { isAborted: ctl.isAborted, prefixCache, intervention: steer(req.intervention) });
    case 'hidden':
    {
      const special = specialPositions(model, req.ids);
      const params = req.params.position === 'mean' && !req.params.meanSkip ? { ...req.params, meanSkip: special } : req.params;
      return { ...(await hiddenStates(model, req.ids, params, { isAborted: ctl.isAborted, prefixCache, intervention: steer(req.intervention) })), specialPositions: special };
    }
    default:
      throw new SclabError('bad_request', `unknown engine request ${(req as { op: string }).op}`);
  }
}
