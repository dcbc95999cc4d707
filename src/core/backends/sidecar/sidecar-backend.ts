// The sidecar backend: hidden states and probe scores from a sidecar (sclab.sidecar/1, next to a big model on a
// GPU machine), generation and log-probabilities from an OpenAI-compatible server (vLLM, SGLang, …) serving the
// same model. connect() refuses a pair that names different models: a run must not mix one model's generations
// with another's hidden states.
import type { Backend, ChatRequest, ChatResult, HiddenStatesRequest, HiddenStatesResult, LabelLogprobsRequest, OptionScoreRequest, OptionScoreResult, Steering, TopAlternative } from '../backend';
import type { BackendDescription } from '../../model/manifest';
import { isSclabError, SclabError } from '../../model/errors';
import type { ModelIdentity } from '../../engine/types';
import { createSidecarClient } from '../../sidecar/client';
import { encodeVector } from '../../sidecar/encoding';
import { toWireModule, type ProbeScoresWireRequest, type ProbeScoresWireResponse, type SidecarInfo, type SteerWire } from '../../sidecar/protocol';
import { createOpenAIBackend } from '../openai';
import { makeClient, RequestGate } from '../openai/client';
import { createHttpFetch } from '../openai/http-fetch';
import { parseEndpoint } from '../openai/endpoint';
import type { PrefillMode, PromptRenderer } from '../openai/options';
import { readModelIds } from '../openai/responses';
import { checkTokenAgreement } from './token-check';

export interface SidecarBackendOptions {
  /** the sidecar's root URL, e.g. http://gpu-box:8765 */
  sidecarUrl: string;
  sidecarToken?: string;
  /** the OpenAI-compatible server that generates, e.g. http://gpu-box:8000/v1 */
  baseUrl: string;
  apiKey?: string;
  /** the model name; default: the one the sidecar serves (and it must be that one) */
  model?: string;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  prefillMode?: PrefillMode;
  renderPrompt?: PromptRenderer;
}

export interface SidecarBackend extends Backend {
  readonly kind: 'sidecar';
  hiddenStates(req: HiddenStatesRequest, signal?: AbortSignal): Promise<HiddenStatesResult>;
  /** probes scored on the sidecar: only the numbers cross the network */
  probeScores(req: { messages: ChatRequest['messages']; prefill: string; probes: ProbeScoresWireRequest['probes'] }, signal?: AbortSignal): Promise<ProbeScoresWireResponse>;
  /** what the sidecar says it runs (after connect) */
  identity(): Promise<ModelIdentity | undefined>;
}

function notConnected(): never {
  throw new SclabError('internal', 'the sidecar backend is used before connect()');
}

export function createSidecarBackend(opts: SidecarBackendOptions): SidecarBackend {
  const sidecar = createSidecarClient({ url: opts.sidecarUrl, timeoutMs: opts.requestTimeoutMs, ...(opts.sidecarToken ? { token: opts.sidecarToken } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const endpoint = parseEndpoint(opts.baseUrl);
  // the model list and the token check go through our capped node:http fetch too, never the runtime's uncapped one
  const ownFetch = opts.fetch ? undefined : createHttpFetch();
  const doFetch = opts.fetch ?? ownFetch!.fetch;
  let info: SidecarInfo | undefined;
  let generation: Backend | undefined;
  let scoreVia: 'openai' | 'sidecar' | 'none' = 'none';

  /** the generation server's model list; null when it has none */
  async function listedModels(signal?: AbortSignal): Promise<string[] | null> {
    const client = makeClient(endpoint, opts.apiKey, opts.requestTimeoutMs, doFetch);
    const gate = new RequestGate(opts.requestTimeoutMs, [...(opts.apiKey ? [opts.apiKey] : []), ...endpoint.secrets]);
    try {
      const body = await gate.run('GET /models', signal, (s) => client.get<unknown>('/models', { signal: s }));
      return readModelIds(body, `GET ${endpoint.publicUrl}/models`);
    } catch (e) {
      if (isSclabError(e) && (e.code === 'bad_request' || e.code === 'malformed_response')) return null;
      throw e;
    }
  }

  function requireSteer(): void {
    if (!info || !canSteer(info)) throw new SclabError('config', `the sidecar at ${sidecar.url} cannot steer (GET /v1/info: capabilities steer, generate and loglikelihood are needed)`);
  }

  async function connect(signal?: AbortSignal): Promise<BackendDescription> {
    const i = await sidecar.info(signal);
    const model = opts.model ?? i.model;
    if (model !== i.model) {
      throw new SclabError('config', (w) => `model mismatch: ${w.model} is "${model}" but the sidecar at ${sidecar.url} serves "${i.model}"; hidden states would come from another model`);
    }
    const notes = [`sidecar ${sidecar.url}: ${i.implementation ?? 'unnamed implementation'}, ${i.protocol}, model "${i.model}" (${i.n_layers} layers, width ${i.d_model})`];
    const listed = await listedModels(signal);
    if (listed !== null && !listed.includes(model)) {
      throw new SclabError(
        'config',
        `model mismatch: the sidecar at ${sidecar.url} serves "${model}" but the OpenAI-compatible server at ${endpoint.publicUrl} serves ${listed.map((m) => `"${m}"`).join(', ') || 'no model'}; ` +
          'serve the same model under the same name on both (vLLM: --served-model-name)',
      );
    }
    notes.push(listed === null ? `generation ${endpoint.publicUrl}: no model list (GET /models); the model name is checked by the chat probe only` : `generation ${endpoint.publicUrl}: lists "${model}", the sidecar's model`);
    await generation?.close();
    generation = createOpenAIBackend({
      baseUrl: opts.baseUrl,
      model,
      requestTimeoutMs: opts.requestTimeoutMs,
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.prefillMode ? { prefillMode: opts.prefillMode } : {}),
      ...(opts.renderPrompt ? { renderPrompt: opts.renderPrompt } : {}),
    });
    const g = await generation.connect(signal);
    const tokenCheck = await checkTokenAgreement({
      sidecar,
      requestBaseUrl: endpoint.requestBaseUrl,
      publicUrl: endpoint.publicUrl,
      model,
      timeoutMs: opts.requestTimeoutMs,
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      fetch: doFetch,
      ...(signal ? { signal } : {}),
    });
    notes.push(tokenCheck.result === 'agree' ? `tokens: the sidecar and ${tokenCheck.against} agree on a sample chat with a prefill (${tokenCheck.tokens} tokens)` : `tokens: agreement not checked: ${tokenCheck.reason}`);
    scoreVia = g.capabilities.optionLogprobs ? 'openai' : i.capabilities.loglikelihood ? 'sidecar' : 'none';
    if (scoreVia === 'sidecar') notes.push('option log-likelihoods: from the sidecar (POST /v1/loglikelihood, the model\'s own chat format), since the generation server gives none');
    info = i;
    const description: BackendDescription = {
      kind: 'sidecar',
      model,
      baseUrl: g.baseUrl ?? endpoint.publicUrl,
      capabilities: { ...g.capabilities, optionLogprobs: scoreVia !== 'none', hiddenStates: i.capabilities.hidden_states, probeScores: i.capabilities.probe_scores, steer: canSteer(i) },
      tokenCheck,
      notes: [...notes, ...g.notes.map((n) => `generation: ${n}`)],
    };
    if (i.identity) description.identity = { name: i.identity.name, nLayers: i.identity.n_layers, dModel: i.identity.d_model, weightsSha256: i.identity.weights_sha256 };
    return description;
  }

  return {
    kind: 'sidecar',
    connect,
    async chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
      if (!req.steer) return (generation ?? notConnected()).chat(req, signal);
      // a steered answer comes from the sidecar itself: the generation server cannot steer
      requireSteer();
      const d = req.decoding;
      const r = await sidecar.generate(
        { messages: req.messages, prefill: req.prefill, max_tokens: d.maxTokens, temperature: d.temperature, top_p: d.topP, stop: d.stop, ...(d.seed !== undefined ? { seed: d.seed } : {}), steer: steerToWire(req.steer) },
        signal,
      );
      return { text: r.text, finishReason: r.finish_reason, usage: { promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens } };
    },
    // the label-probability rank is a generation request: the generation server's capability and method
    labelLogprobs: (req: LabelLogprobsRequest, signal?: AbortSignal): Promise<TopAlternative[]> => {
      const g = generation ?? notConnected();
      if (!g.labelLogprobs) throw new SclabError('unsupported', 'the generation server cannot rank labels by probability');
      return g.labelLogprobs(req, signal);
    },

    async scoreOptions(req: OptionScoreRequest, signal?: AbortSignal): Promise<OptionScoreResult> {
      if (req.steer) requireSteer();
      else if (scoreVia === 'openai') return generation!.scoreOptions!(req, signal);
      if (scoreVia === 'none') throw new SclabError('unsupported', 'neither the generation server nor the sidecar gives exact option log-likelihoods');
      const r = await sidecar.loglikelihood({ messages: req.messages, prefill: req.prefill, continuations: req.continuations, ...(req.steer ? { steer: steerToWire(req.steer) } : {}) }, signal);
      return { logprobs: r.results.map((x) => x.sum), tokenLogprobs: r.results.map((x) => x.logprobs) };
    },

    async hiddenStates(req: HiddenStatesRequest, signal?: AbortSignal): Promise<HiddenStatesResult> {
      const h = await sidecar.hiddenStates(
        {
          messages: req.messages,
          prefill: req.prefill,
          layers: req.layers ?? 'all',
          position: req.position,
          module: toWireModule(req.module),
          convention: req.convention ?? 'sclab',
          encoding: 'base64-f32',
          ...(req.steer ? { steer: steerToWire(req.steer) } : {}),
        },
        signal,
      );
      return { module: h.module, position: h.position, convention: h.convention, layers: h.layers, vectors: h.vectors, dim: h.dim, nTokens: h.nTokens, ...(h.specialPositions ? { specialPositions: h.specialPositions } : {}) };
    },

    probeScores: (req, signal) => sidecar.probeScores({ messages: req.messages, prefill: req.prefill, probes: req.probes }, signal),

    async identity(): Promise<ModelIdentity | undefined> {
      const id = (info ?? notConnected()).identity;
      return id ? { name: id.name, nLayers: id.n_layers, dModel: id.d_model, weightsSha256: id.weights_sha256 } : undefined;
    },

    async close(): Promise<void> {
      await generation?.close();
      sidecar.close();
      ownFetch?.close();
    },
  };
}

/** steering needs the sidecar to generate and score by itself: the OpenAI-compatible server beside it cannot steer */
function canSteer(i: SidecarInfo): boolean {
  return i.capabilities.steer && i.capabilities.generate && i.capabilities.loglikelihood;
}

function steerToWire(s: Steering): SteerWire {
  const { mode, alpha, layers } = s.intervention;
  return { mode, alpha, positions: s.positions, layers: layers.map((l) => ({ layer: l.layer, direction: encodeVector(Float32Array.from(l.direction), 'base64-f32') })) };
}
