// EngineClient: the engine behind an async API. By default the model runs in a worker thread (dist/engine-worker.js)
// so callers never block; 'in-process' runs the same requests on the calling thread (tests under vitest, where no
// bundle exists). Requests are queued and sent one at a time per worker; an AbortSignal cancels a queued request at
// once and a running one at its next token or layer.
//
// A pool (workers > 1) runs several worker threads over ONE copy of the weights: the first loads the model into its
// shared kernel memory, the others attach to that memory (shared-weights.ts); each keeps its own scratch, KV and
// prefix cache. Requests with the same affinity key (the embedded backend uses a chain's opening user turn) go to
// the same worker, so a chain's rounds, and the conditions of one item, find their prefixes in that worker's cache.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChatMessage } from '../model/chat';
import { cancelledError, SclabError } from '../model/errors';
import type { CaptureOptions, HiddenStates } from './capture';
import { DEFAULT_PREFIX_CACHE_BYTES, engineInfo, handleRequest, hostModel, type HostedModel } from './host';
import type { PrefixCacheStats } from './prefix-cache';
import type { SharedWeights } from './shared-weights';
import type { InterventionSpec } from './intervention';
import { releaseKernelScratch } from './kernels';
import { configureKernels, type FmaMode } from './kernels-wasm';
import { describeModelSpec, loadLocalModel, type ModelSpec } from './load-local';
import {
  type ClientMessage,
  deserializeError,
  type EngineInfo,
  type EngineOp,
  type EngineOps,
  type EngineRequest,
  type EngineStats,
  type PrefixCacheOption,
  type GenerateParams,
  type RequestOf,
  type StreamedToken,
  type WorkerInit,
  type WorkerMessage,
} from './protocol';
import type { ContinuationScore, GenerateResult } from './session';

export interface EngineClientOptions {
  modelSpec: ModelSpec;
  /** the bundled worker; default: engine-worker.js beside the running bundle */
  workerPath?: string;
  /** 'auto': the worker when its bundle exists, else in-process. Default 'worker'. */
  mode?: 'worker' | 'in-process' | 'auto';
  /** keys and values kept across requests (default: on, 512 MiB, split evenly between workers); false = off */
  prefixCache?: PrefixCacheOption;
  /** worker threads sharing the weights (default 1); in-process runs one whatever is asked */
  workers?: number;
  /** internal, for the benchmark: each worker splits its big matmuls over this many threads (matmul-team.ts) */
  matmulThreads?: number;
  /**
   * fused multiply-add in the matmul kernels: auto (default: where the runtime has WebAssembly relaxed SIMD), on
   * (an error without it) or off; FMA rounds once per product-sum, so results differ from off in the last bits
   */
  fma?: FmaMode;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** requests with one key run on one worker of a pool (its prefix cache); absent: the least busy worker */
  affinity?: string;
}

/** a residual-stream intervention for the forward passes of one call (absent = none) */
export interface Steered {
  intervention?: InterventionSpec;
}

function steerField(call: Steered): { intervention?: InterventionSpec } {
  return call.intervention ? { intervention: call.intervention } : {};
}

interface RunningRequest {
  promise: Promise<unknown>;
  abort(): void;
}

interface Transport {
  run(request: EngineRequest, onToken?: (t: StreamedToken) => void): RunningRequest;
  close(): Promise<void>;
}

/** one worker and the requests waiting for it */
interface Lane {
  transport: Transport;
  queue: Promise<void>;
  /** requests queued or running here */
  load: number;
}

/** affinity keys remembered (most recent kept): enough for every chain in flight many times over */
const AFFINITY_KEYS = 4096;

export class EngineClient {
  private closed = false;
  private readonly lanes: Lane[];
  private readonly affinity = new Map<string, number>();

  private constructor(
    transports: Transport[],
    private readonly engine: EngineInfo,
    /** 'worker' or 'in-process' */
    readonly mode: 'worker' | 'in-process',
  ) {
    this.lanes = transports.map((transport) => ({ transport, queue: Promise.resolve(), load: 0 }));
  }

  /** worker threads serving requests (they share one copy of the weights) */
  get workers(): number {
    return this.lanes.length;
  }

  static async start(opts: EngineClientOptions): Promise<EngineClient> {
    const inProcess = opts.mode === 'in-process' || (opts.mode === 'auto' && !existsSync(opts.workerPath ?? defaultWorkerPath()));
    const workers = opts.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new SclabError('config', `engine workers must be a positive whole number (got ${workers})`);
    if (inProcess) {
      configureKernels({ fma: opts.fma ?? 'auto' });
      const model = await loadLocalModel(opts.modelSpec);
      let hosted: HostedModel | null = hostModel(model, opts.prefixCache);
      const transport: Transport = {
        run(request, onToken) {
          let aborted = false;
          const ctl = { isAborted: () => aborted, ...(onToken ? { onToken } : {}) };
          if (!hosted) return { promise: Promise.reject(new SclabError('cancelled', 'the engine client is closed')), abort: () => {} };
          return { promise: handleRequest(hosted, request, ctl), abort: () => (aborted = true) };
        },
        // the model's kernel arena, its KV caches and the scratch arena become garbage (a worker frees all at exit)
        close: async () => {
          hosted?.prefixCache?.clear();
          hosted = null;
          releaseKernelScratch();
        },
      };
      return new EngineClient([transport], engineInfo(model), 'in-process');
    }
    const prefixCache = splitPrefixCache(opts.prefixCache, workers);
    const first = await startWorker({ ...opts, prefixCache }, workers > 1 ? { share: true } : {});
    const transports = [first.transport];
    if (first.shared) {
      const shared = first.shared;
      const rest = await Promise.allSettled(Array.from({ length: workers - 1 }, () => startWorker({ ...opts, prefixCache }, { shared })));
      for (const r of rest) if (r.status === 'fulfilled') transports.push(r.value.transport);
      const failed = rest.find((r) => r.status === 'rejected');
      if (failed) {
        await Promise.all(transports.map((t) => t.close()));
        throw (failed as PromiseRejectedResult).reason;
      }
    }
    return new EngineClient(transports, first.info, 'worker');
  }

  async info(): Promise<EngineInfo> {
    return this.engine;
  }

  /** what the engine keeps between requests: the prefix caches' size, reuse and evictions; each worker's memory */
  async stats(call: CallOptions = {}): Promise<EngineStats> {
    const workers = await Promise.all(this.lanes.map((_, i) => this.call({ op: 'stats' }, call, undefined, i)));
    return { prefixCache: mergePrefixStats(workers.map((w) => w.prefixCache)), workers };
  }

  /** ids of each text; BOS in front when addBos (default: as the model expects) */
  tokenize(texts: string[], addBos = this.engine.addBos, call: CallOptions = {}): Promise<number[][]> {
    return this.call({ op: 'tokenize', texts, addBos }, call);
  }

  decode(ids: number[], call: CallOptions = {}): Promise<string> {
    return this.call({ op: 'decode', ids }, call);
  }

  /** the prompt text the model's chat format makes of a conversation and an assistant prefill */
  render(messages: ChatMessage[], prefill: string, call: CallOptions = {}): Promise<string> {
    return this.call({ op: 'render', messages, prefill }, call);
  }

  generate(promptIds: number[], params: GenerateParams, call: CallOptions & Steered & { onToken?: (t: StreamedToken) => void } = {}): Promise<GenerateResult> {
    return this.call({ op: 'generate', promptIds, params, stream: call.onToken !== undefined, ...steerField(call) }, call, call.onToken);
  }

  /** log-likelihood of each continuation after the shared prefix */
  score(prefixIds: number[], continuations: number[][], call: CallOptions & Steered = {}): Promise<ContinuationScore[]> {
    return this.call({ op: 'score', prefixIds, continuations, ...steerField(call) }, call);
  }

  hidden(ids: number[], params: CaptureOptions, call: CallOptions & Steered = {}): Promise<HiddenStates> {
    return this.call({ op: 'hidden', ids, params, ...steerField(call) }, call);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.lanes.map((l) => l.transport.close()));
  }

  /** the lane of an affinity key: where it ran before, else (and without a key) the least busy, lowest first */
  private laneFor(key: string | undefined): number {
    const known = key === undefined ? undefined : this.affinity.get(key);
    if (known !== undefined) {
      this.affinity.delete(key!);
      this.affinity.set(key!, known); // most recently used last
      return known;
    }
    let best = 0;
    for (let i = 1; i < this.lanes.length; i++) if (this.lanes[i]!.load < this.lanes[best]!.load) best = i;
    if (key !== undefined && this.lanes.length > 1) {
      this.affinity.set(key, best);
      if (this.affinity.size > AFFINITY_KEYS) this.affinity.delete(this.affinity.keys().next().value!);
    }
    return best;
  }

  private call<K extends EngineOp>(request: RequestOf<K>, call: CallOptions, onToken?: (t: StreamedToken) => void, laneIndex?: number): Promise<EngineOps[K]['res']> {
    if (this.closed) return Promise.reject(new SclabError('cancelled', 'the engine client is closed'));
    const { signal } = call;
    if (signal?.aborted) return Promise.reject(cancelledError());
    const lane = this.lanes[laneIndex ?? this.laneFor(call.affinity)]!;
    lane.load++;
    return new Promise<EngineOps[K]['res']>((resolve, reject) => {
      let running: RunningRequest | null = null;
      let dropped = false;
      const onAbort = (): void => {
        if (running) running.abort();
        else {
          dropped = true;
          reject(cancelledError());
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.queue = lane.queue.then(async () => {
        try {
          if (dropped) return;
          if (this.closed) {
            reject(new SclabError('cancelled', 'the engine client is closed'));
            return;
          }
          running = lane.transport.run(request as EngineRequest, onToken);
          resolve((await running.promise) as EngineOps[K]['res']);
        } catch (e) {
          reject(e);
        } finally {
          lane.load--;
          signal?.removeEventListener('abort', onAbort);
        }
      });
    });
  }
}

/** each worker's share of the prefix-cache budget: the option bounds the engine's memory, not each worker's */
function splitPrefixCache(option: PrefixCacheOption | undefined, workers: number): PrefixCacheOption | undefined {
  if (option === false || workers === 1) return option;
  return { budgetBytes: Math.floor((option?.budgetBytes ?? DEFAULT_PREFIX_CACHE_BYTES) / workers) };
}

function mergePrefixStats(all: Array<PrefixCacheStats | null>): PrefixCacheStats | null {
  const present = all.filter((s): s is PrefixCacheStats => s !== null);
  if (present.length === 0) return null;
  const sum = (k: keyof PrefixCacheStats): number => present.reduce((a, s) => a + s[k], 0);
  return {
    budgetBytes: sum('budgetBytes'),
    bytes: sum('bytes'),
    peakBytes: sum('peakBytes'),
    lookups: sum('lookups'),
    reusedTokens: sum('reusedTokens'),
    tailHits: sum('tailHits'),
    storedTokens: sum('storedTokens'),
    evictions: sum('evictions'),
    evictedTokens: sum('evictedTokens'),
    refusedInserts: sum('refusedInserts'),
  };
}

export function defaultWorkerPath(): string {
  // In the bundles (dist/cli.js, dist/extension.js) __dirname is dist/, where esbuild puts engine-worker.js.
  return path.join(typeof __dirname === 'string' ? __dirname : process.cwd(), 'engine-worker.js');
}

async function startWorker(
  opts: EngineClientOptions,
  pool: { share?: boolean; shared?: SharedWeights },
): Promise<{ transport: Transport; info: EngineInfo; shared: SharedWeights | null }> {
  const workerPath = opts.workerPath ?? defaultWorkerPath();
  if (!existsSync(workerPath)) {
    throw new SclabError('internal', `engine worker ${workerPath} not found; build it with \`node esbuild.mjs\``);
  }
  const abortFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(abortFlag);
  const init: WorkerInit = {
    modelSpec: opts.modelSpec,
    abortFlag,
    ...(opts.prefixCache !== undefined ? { prefixCache: opts.prefixCache } : {}),
    ...(opts.matmulThreads !== undefined ? { matmulThreads: opts.matmulThreads } : {}),
    ...(opts.fma !== undefined ? { fma: opts.fma } : {}),
    ...pool,
  };
  const worker = new Worker(workerPath, { workerData: init });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; onToken?: (t: StreamedToken) => void }>();
  let nextId = 1;
  let dead: SclabError | null = null;

  let shared: SharedWeights | null = null;
  const info = await new Promise<EngineInfo>((resolve, reject) => {
    const fail = (e: SclabError): void => {
      dead = e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      reject(e);
    };
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'ready':
          shared = m.shared ?? null;
          resolve(m.info);
          break;
        case 'load-error':
          reject(deserializeError(m.error));
          void worker.terminate();
          break;
        case 'result':
          pending.get(m.id)?.resolve(m.result);
          pending.delete(m.id);
          break;
        case 'error':
          pending.get(m.id)?.reject(deserializeError(m.error));
          pending.delete(m.id);
          break;
        case 'token':
          pending.get(m.id)?.onToken?.(m.token);
          break;
      }
    });
    worker.on('error', (e) => fail(new SclabError('internal', `engine worker for ${describeModelSpec(opts.modelSpec)} crashed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => fail(new SclabError('cancelled', `engine worker exited (code ${code})`)));
  });

  const transport: Transport = {
    run(request, onToken) {
      if (dead) return { promise: Promise.reject(dead), abort: () => {} };
      const id = nextId++;
      // Cleared before sending: only this (the single in-flight) request can be aborted by a later store.
      Atomics.store(flag, 0, 0);
      const promise = new Promise<unknown>((resolve, reject) => pending.set(id, onToken ? { resolve, reject, onToken } : { resolve, reject }));
      const msg: ClientMessage = { type: 'request', id, request };
      worker.postMessage(msg);
      return { promise, abort: () => Atomics.store(flag, 0, 1) };
    },
    async close() {
      await worker.terminate();
    },
  };
  return { transport, info, shared };
}
