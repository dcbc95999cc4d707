// The embedded backend: the in-process engine (in a worker thread) behind the Backend interface. Every capability
// is exact here: generation with an assistant prefill, option log-likelihoods, top-k alternatives, hidden states.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { TOKEN_CHECK_SAMPLE } from '../sidecar/token-check';
import type { ChatMessage } from '../../model/chat';
import { cancelledError, SclabError } from '../../model/errors';
import type { BackendDescription } from '../../model/manifest';
import { EngineClient } from '../../engine/client';
import { alignContinuations } from '../../engine/continuations';
import type { ModelSpec } from '../../engine/load-local';
import type { FmaMode } from '../../engine/kernels-wasm';
import { DEFAULT_PREFIX_CACHE_BYTES } from '../../engine/host';
import type { PrefixCacheOption } from '../../engine/protocol';
import type { FinishReason } from '../../engine/session';
import type { ModelIdentity } from '../../engine/types';
import type { Backend, ChatRequest, ChatResult, HiddenStatesRequest, HiddenStatesResult, OptionScoreRequest, OptionScoreResult } from '../backend';
import { resolveSteering } from '../steering';

export interface EmbeddedBackendOptions {
  modelSpec: ModelSpec;
  /** the bundled engine worker; default: engine-worker.js beside the running bundle */
  workerPath?: string;
  /** 'in-process' runs the engine on the calling thread (tests without a bundle); 'auto' picks the worker when built */
  mode?: 'worker' | 'in-process' | 'auto';
  /**
   * Keys and values kept across requests (default on, 512 MiB): a round's prompt is prefilled once for its probes,
   * generation and option scores, and the next round prefills only its new tokens. false = the three-pass path.
   */
  prefixCache?: PrefixCacheOption;
  /**
   * Worker threads sharing one copy of the weights, each serving different chains (default 1; see
   * engineWorkersFor for the CLI's rule: --engine-threads, default the cores, at most --concurrency). Worker mode only.
   */
  workers?: number;
  /** internal, the benchmark's switch: each worker splits its big matmuls over this many threads (matmul-team.ts) */
  matmulThreads?: number;
  /** fused multiply-add in the matmul kernels (--engine-fma; default auto: where the runtime has relaxed SIMD) */
  fma?: FmaMode;
}

export type { HiddenStatesRequest, HiddenStatesResult };

/**
 * Worker threads for a run: --engine-threads (default: the machine's cores), but no more than the run's concurrency
 * (requests in flight), since a worker without a chain to serve only holds memory.
 */
export function engineWorkersFor(opts: { engineThreads?: number; concurrency?: number }): number {
  const threads = opts.engineThreads ?? availableParallelism();
  return Math.max(1, Math.min(threads, opts.concurrency ?? threads));
}

/**
 * The chain a request belongs to, for a worker pool: the conversation up to its first user turn (a chain's rounds
 * all start so, and the conditions of one item mostly do), hashed. Requests of one chain then share a prefix cache.
 */
function chainAffinity(messages: ChatMessage[]): string {
  const firstUser = messages.findIndex((m) => m.role === 'user');
  const opening = firstUser < 0 ? messages : messages.slice(0, firstUser + 1);
  return createHash('sha256').update(JSON.stringify(opening.map((m) => [m.role, m.content]))).digest('base64');
}

export interface EmbeddedBackend extends Backend {
  readonly kind: 'embedded';
  hiddenStates(req: HiddenStatesRequest, signal?: AbortSignal): Promise<HiddenStatesResult>;
  /** name, layer count, width and weights hash of the loaded model: what a probe file records */
  identity(): Promise<ModelIdentity>;
}

/** OpenAI's vocabulary: the model ending and a stop sequence are both 'stop' */
const FINISH: Record<FinishReason, string> = { eos: 'stop', stop: 'stop', length: 'length' };

export function createEmbeddedBackend(opts: EmbeddedBackendOptions): EmbeddedBackend {
  let starting: Promise<EngineClient> | null = null;
  const engine = (): Promise<EngineClient> => {
    starting ??= EngineClient.start({
      modelSpec: opts.modelSpec,
      ...(opts.workerPath ? { workerPath: opts.workerPath } : {}),
      ...(opts.mode ? { mode: opts.mode } : {}),
      ...(opts.prefixCache !== undefined ? { prefixCache: opts.prefixCache } : {}),
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.matmulThreads !== undefined ? { matmulThreads: opts.matmulThreads } : {}),
      ...(opts.fma !== undefined ? { fma: opts.fma } : {}),
    });
    return starting;
  };
  const promptIds = async (client: EngineClient, messages: ChatMessage[], prefill: string, signal?: AbortSignal): Promise<number[]> => {
    const text = await client.render(messages, prefill, { signal });
    return (await client.tokenize([text], undefined, { signal }))[0]!;
  };
  // every request of a chain on one worker: its rounds reuse that worker's prefix cache
  const routed = (messages: ChatMessage[], signal?: AbortSignal) => ({ signal, affinity: chainAffinity(messages) });

  return {
    kind: 'embedded',

    async connect(signal?: AbortSignal): Promise<BackendDescription> {
      if (signal?.aborted) throw cancelledError();
      const info = await (await engine()).info();
      const c = info.config;
      // one engine renders and tokenizes for generation, log-likelihoods and hidden states: agreement by construction,
      // recorded with the sample's length as the sidecar backend records its checked agreement
      const sample = await promptIds(await engine(), TOKEN_CHECK_SAMPLE.messages, TOKEN_CHECK_SAMPLE.prefill, signal);
      return {
        kind: 'embedded',
        model: info.identity.name,
        identity: info.identity,
        capabilities: { chat: true, optionLogprobs: true, topLogprobs: true, hiddenStates: true, probeScores: false, steer: true },
        tokenCheck: { result: 'agree', against: 'the engine itself: generation, option log-likelihoods and hidden states run on the same rendered ids', tokens: sample.length },
        notes: [
          `${c.family} model: ${c.nLayers} layers, width ${c.dim}, ${c.nHeads}/${c.nKvHeads} heads, vocabulary ${c.vocabSize}, context ${c.maxSeqLen}`,
          `weights sha256 ${info.identity.weightsSha256}`,
          `chat format: ${info.chatFormat}`,
          'in-process engine: exact option log-likelihoods and every layer’s hidden states',
          prefixCacheNote(opts.prefixCache),
          workersNote(await engine(), opts.matmulThreads ?? 1),
          info.kernels,
        ],
      };
    },

    async chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
      const client = await engine();
      const ids = await promptIds(client, req.messages, req.prefill, signal);
      const d = req.decoding;
      const r = await client.generate(
        ids,
        {
          maxTokens: d.maxTokens,
          temperature: d.temperature,
          topP: d.topP,
          stop: d.stop,
          topLogprobs: d.topLogprobs,
          ...(d.seed !== undefined ? { seed: d.seed } : {}),
        },
        { ...routed(req.messages, signal), ...(await resolveSteering(client, { steer: req.steer, messages: req.messages, ids }, signal)) },
      );
      const result: ChatResult = {
        text: r.text,
        finishReason: FINISH[r.finishReason],
        usage: { promptTokens: r.promptTokens, completionTokens: r.tokens.length },
      };
      if (r.topLogprobs) result.topLogprobs = r.topLogprobs.map((alts) => alts.map(({ token, logprob }) => ({ token, logprob })));
      return result;
    },

    async scoreOptions(req: OptionScoreRequest, signal?: AbortSignal): Promise<OptionScoreResult> {
      const client = await engine();
      const input = await client.render(req.messages, req.prefill, { signal });
      const [context, ...wholes] = await client.tokenize([input, ...req.continuations.map((c) => input + c)], undefined, { signal });
      const aligned = alignContinuations(context!, wholes);
      const scores = await client.score(aligned.prefixIds, aligned.continuations, { ...routed(req.messages, signal), ...(await resolveSteering(client, { steer: req.steer, messages: req.messages, ids: context! }, signal)) });
      const tokenLogprobs = scores.map((s, i) => s.logprobs.slice(aligned.inputTokens[i]!));
      return { logprobs: tokenLogprobs.map((lp) => lp.reduce((a, b) => a + b, 0)), tokenLogprobs };
    },

    async hiddenStates(req: HiddenStatesRequest, signal?: AbortSignal): Promise<HiddenStatesResult> {
      const client = await engine();
      const { config } = await client.info();
      const lo = req.module === 'residual' ? 0 : 1;
      const layers = req.layers ?? Array.from({ length: config.nLayers + 1 - lo }, (_, i) => i + lo);
      for (const l of layers) {
        if (!Number.isInteger(l) || l < lo || l > config.nLayers) {
          throw new SclabError('bad_request', `layer ${l} does not exist for module ${req.module}: choose ${lo}…${config.nLayers}`);
        }
      }
      const convention = req.convention ?? 'sclab';
      const ids = await promptIds(client, req.messages, req.prefill, signal);
      const h = await client.hidden(ids, { position: req.position, modules: [req.module], convention }, { ...routed(req.messages, signal), ...(await resolveSteering(client, { steer: req.steer, messages: req.messages, ids }, signal)) });
      const all = h[req.module]!;
      return {
        module: req.module,
        position: req.position,
        convention,
        layers,
        vectors: layers.map((l) => all[l - lo]!),
        dim: h.dim,
        nTokens: h.nTokens,
        specialPositions: h.specialPositions ?? [],
      };
    },

    async runNotes(): Promise<string[]> {
      if (!starting) return [];
      const stats = await (await engine()).stats();
      const c = stats.prefixCache;
      const perWorker =
        stats.workers.length > 1
          ? [`engine workers: ${stats.workers.map((w, i) => `worker ${i + 1} answered ${w.served.requests} requests in ${w.served.seconds.toFixed(1)} s`).join('; ')}`]
          : [];
      if (!c) return perWorker;
      return [
        ...perWorker,
        `prefix cache: ${c.reusedTokens} prompt tokens reused over ${c.lookups} lookups (${c.tailHits} prompts without any forward pass); ` +
          `${c.storedTokens} tokens stored, peak ${mib(c.peakBytes)} of the ${mib(c.budgetBytes)} budget; ${c.evictions} evictions (${c.evictedTokens} tokens)${c.refusedInserts ? `; ${c.refusedInserts} prompts too big for the budget not stored` : ''}`,
      ];
    },

    async identity(): Promise<ModelIdentity> {
      return (await (await engine()).info()).identity;
    },

    async close(): Promise<void> {
      const s = starting;
      starting = null;
      if (s) await (await s.catch(() => null))?.close();
    },
  };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function workersNote(client: EngineClient, matmulThreads: number): string {
  const n = client.workers;
  if (matmulThreads > 1) return `engine workers: ${n}, each splitting its big matmuls over ${matmulThreads} threads (the benchmark's split-matmul engine)`;
  if (n === 1) return `engine workers: 1 (${client.mode === 'in-process' ? 'in-process' : 'one worker thread'}); requests run one at a time`;
  return `engine workers: ${n} worker threads sharing one copy of the weights; each chain stays on one worker (its own prefix cache, ${n} × the per-worker budget = the budget above)`;
}

function prefixCacheNote(option: PrefixCacheOption | undefined): string {
  if (option === false) return 'prefix cache off: every request prefills its prompt from scratch';
  const budget = option?.budgetBytes ?? DEFAULT_PREFIX_CACHE_BYTES;
  return `prefix cache on, budget ${mib(budget)}: a round's prompt is prefilled once (probes, generation and option scores share it), later rounds prefill only new tokens; least recently used prefixes are evicted`;
}
