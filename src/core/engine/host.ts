// Executes protocol requests against a loaded model; shared by the worker thread and the in-process mode.
import { SclabError } from '../model/errors';
import type { EngineInfo, EngineRequest, StreamedToken } from './protocol';
import { generate, hiddenStates, scoreContinuations } from './session';
import type { LoadedModel, Tokenizer } from './types';

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

export async function handleRequest(model: LoadedModel, req: EngineRequest, ctl: HostControl): Promise<unknown> {
  switch (req.op) {
    case 'info':
      return engineInfo(model);
    case 'tokenize':
      return req.texts.map((t) => tokenizeText(model.tokenizer, t, req.addBos));
    case 'decode':
      return model.tokenizer.decode(req.ids);
    case 'render':
      return model.chat.render(req.messages, req.prefill);
    case 'generate': {
      const opts = { ...req.params, isAborted: ctl.isAborted };
      return generate(model, req.promptIds, req.stream && ctl.onToken ? { ...opts, onToken: ctl.onToken } : opts);
    }
    case 'score':
      return scoreContinuations(model, req.prefixIds, req.continuations, { isAborted: ctl.isAborted });
    case 'hidden':
    {
      const special = specialPositions(model, req.ids);
      const params = req.params.position === 'mean' && !req.params.meanSkip ? { ...req.params, meanSkip: special } : req.params;
      return { ...(await hiddenStates(model, req.ids, params, { isAborted: ctl.isAborted })), specialPositions: special };
    }
    default:
      throw new SclabError('bad_request', `unknown engine request ${(req as { op: string }).op}`);
  }
}
