// Executes protocol requests against a loaded model; shared by the worker thread and the in-process mode.
import { SclabError } from '../model/errors';
import type { EngineInfo, EngineRequest, StreamedToken } from './protocol';
import { generate, hiddenStates, scoreContinuations } from './session';
import type { LoadedModel } from './types';

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

export async function handleRequest(model: LoadedModel, req: EngineRequest, ctl: HostControl): Promise<unknown> {
  switch (req.op) {
    case 'info':
      return engineInfo(model);
    case 'tokenize': {
      const bos = req.addBos && model.tokenizer.bosId !== null ? [model.tokenizer.bosId] : [];
      return req.texts.map((t) => bos.concat(model.tokenizer.encode(t)));
    }
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
      return hiddenStates(model, req.ids, req.params, { isAborted: ctl.isAborted });
    default:
      throw new SclabError('bad_request', `unknown engine request ${(req as { op: string }).op}`);
  }
}
