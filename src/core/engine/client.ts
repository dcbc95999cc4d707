// EngineClient: the engine behind an async API. By default the model runs in a worker thread (dist/engine-worker.js)
// so callers never block; 'in-process' runs the same requests on the calling thread (tests under vitest, where no
// bundle exists). Requests are queued and sent one at a time; an AbortSignal cancels a queued request at once and a
// running one at its next token or layer.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChatMessage } from '../model/chat';
import { cancelledError, SclabError } from '../model/errors';
import type { CaptureOptions, HiddenStates } from './capture';
import { engineInfo, handleRequest, hostModel, type HostedModel } from './host';
import type { InterventionSpec } from './intervention';
import { releaseKernelScratch } from './kernels';
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
  /** keys and values kept across requests (default: on, 512 MiB); false = every request prefills from scratch */
  prefixCache?: PrefixCacheOption;
}

export interface CallOptions {
  signal?: AbortSignal;
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

export class EngineClient {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly transport: Transport,
    private readonly engine: EngineInfo,
    /** 'worker' or 'in-process' */
    readonly mode: 'worker' | 'in-process',
  ) {}

  static async start(opts: EngineClientOptions): Promise<EngineClient> {
    const inProcess = opts.mode === 'in-process' || (opts.mode === 'auto' && !existsSync(opts.workerPath ?? defaultWorkerPath()));
    if (inProcess) {
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
      return new EngineClient(transport, engineInfo(model), 'in-process');
    }
    const { transport, info } = await startWorker(opts);
    return new EngineClient(transport, info, 'worker');
  }

  async info(): Promise<EngineInfo> {
    return this.engine;
  }

  /** what the engine keeps between requests: the prefix cache's size, reuse and evictions */
  stats(call: CallOptions = {}): Promise<EngineStats> {
    return this.call({ op: 'stats' }, call);
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
    await this.transport.close();
  }

  private call<K extends EngineOp>(request: RequestOf<K>, call: CallOptions, onToken?: (t: StreamedToken) => void): Promise<EngineOps[K]['res']> {
    if (this.closed) return Promise.reject(new SclabError('cancelled', 'the engine client is closed'));
    const { signal } = call;
    if (signal?.aborted) return Promise.reject(cancelledError());
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
      this.queue = this.queue.then(async () => {
        if (dropped) return;
        if (this.closed) {
          reject(new SclabError('cancelled', 'the engine client is closed'));
          return;
        }
        try {
          running = this.transport.run(request as EngineRequest, onToken);
          resolve((await running.promise) as EngineOps[K]['res']);
        } catch (e) {
          reject(e);
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
      });
    });
  }
}

export function defaultWorkerPath(): string {
  // In the bundles (dist/cli.js, dist/extension.js) __dirname is dist/, where esbuild puts engine-worker.js.
  return path.join(typeof __dirname === 'string' ? __dirname : process.cwd(), 'engine-worker.js');
}

async function startWorker(opts: EngineClientOptions): Promise<{ transport: Transport; info: EngineInfo }> {
  const workerPath = opts.workerPath ?? defaultWorkerPath();
  if (!existsSync(workerPath)) {
    throw new SclabError('internal', `engine worker ${workerPath} not found; build it with \`node esbuild.mjs\``);
  }
  const abortFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(abortFlag);
  const init: WorkerInit = { modelSpec: opts.modelSpec, abortFlag, ...(opts.prefixCache !== undefined ? { prefixCache: opts.prefixCache } : {}) };
  const worker = new Worker(workerPath, { workerData: init });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; onToken?: (t: StreamedToken) => void }>();
  let nextId = 1;
  let dead: SclabError | null = null;

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
  return { transport, info };
}
