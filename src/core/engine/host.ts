// Executes protocol requests against a loaded model; shared by the worker thread and the in-process mode.
import { SclabError } from '../model/errors';
import { compileIntervention, type InterventionSpec } from './intervention';
import { PrefixCache } from './prefix-cache';
import type { EngineInfo, EngineRequest, EngineStats, PrefixCacheOption, StreamedToken } from './protocol';
import { generate, hiddenStates, scoreContinuations } from './session';
import type { LoadedModel } from './types';

/** A loaded model with what serving it keeps between requests. */
export interface HostedModel {
  model: LoadedModel;
  /** null: every request starts from an empty KV cache (the three-pass path) */
  prefixCache: PrefixCache | null;
}

/** 512 MiB of keys and values: ~11 000 tokens of SmolLM2-135M, ~43 000 of Qwen2.5-0.5B (f32) */
export const DEFAULT_PREFIX_CACHE_BYTES = 512 * 2 ** 20;

export function hostModel(model: LoadedModel, option: PrefixCacheOption | undefined): HostedModel {
  const budget = option === false ? null : (option?.budgetBytes ?? DEFAULT_PREFIX_CACHE_BYTES);
  return { model, prefixCache: budget === null ? null : new PrefixCache(model.weights.config, budget) };
}

export function engineStats(hosted: HostedModel): EngineStats {
  return { prefixCache: hosted.prefixCache?.stats() ?? null };
}

export function engineInfo(model: LoadedModel): EngineInfo {
  return {
    identity: model.identity,
    config: model.weights.config,
    chatFormat: model.chat.name,
    addBos: model.addBos,
    bosId: model.tokenizer.bosId,
    eosIds: model.tokenizer.eosIds,
  };
}

export interface HostControl {
  isAborted: () => boolean;
  onToken?: (t: StreamedToken) => void;
}

export async function handleRequest(hosted: HostedModel, req: EngineRequest, ctl: HostControl): Promise<unknown> {
  const { model, prefixCache } = hosted;
  const { nLayers, dim } = model.weights.config;
  const steer = (spec: InterventionSpec | undefined) => compileIntervention(spec, { nLayers, dim });
  switch (req.op) {
    case 'info':
      return engineInfo(model);
    case 'stats':
      return engineStats(hosted);
    case 'tokenize': {
      const bos = req.addBos && model.tokenizer.bosId !== null ? [model.tokenizer.bosId] : [];
      return req.texts.map((t) => bos.concat(model.tokenizer.encode(t)));
    }
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
      return hiddenStates(model, req.ids, req.params, { isAborted: ctl.isAborted, prefixCache, intervention: steer(req.intervention) });
    default:
      throw new SclabError('bad_request', `unknown engine request ${(req as { op: string }).op}`);
  }
}
