// The typed message protocol between EngineClient and the engine (a worker thread, or the same thread in-process).
// The client sends one request at a time; cancellation goes through a shared Int32 flag the engine polls between
// tokens and layers, because a busy worker cannot receive messages until its current request returns.
import type { ChatMessage } from '../model/chat';
import { type ErrorCode, ERROR_CODES, SclabError } from '../model/errors';
import type { CaptureOptions, HiddenStates } from './capture';
import type { InterventionSpec } from './intervention';
import type { FmaMode } from './kernels-wasm';
import type { ModelSpec } from './load-local';
import type { PrefixCacheStats } from './prefix-cache';
import type { SharedWeights } from './shared-weights';
import type { ContinuationScore, GenerateResult } from './session';
import type { ModelConfig, ModelIdentity } from './types';

export interface EngineInfo {
  identity: ModelIdentity;
  config: ModelConfig;
  /** name of the chat format the model's prompts are rendered with */
  chatFormat: string;
  addBos: boolean;
  bosId: number | null;
  eosIds: number[];
  /** which matmul kernels the model runs on (kernels-wasm.ts describeKernels), for the run's notes */
  kernels: string;
}

export interface GenerateParams {
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  topLogprobs?: number;
  ignoreEos?: boolean;
}

/** false: no prefix cache (every request prefills from scratch); default: on, with host.ts's default budget */
export type PrefixCacheOption = false | { budgetBytes?: number };

/** what one worker keeps: its prefix cache, and the kernel memory its model's weights live in */
export interface WorkerStats {
  /** model requests (generate, score, hidden) this worker answered, and the seconds it spent on them */
  served: { requests: number; seconds: number };
  /** null when the engine runs without a prefix cache */
  prefixCache: PrefixCacheStats | null;
  /** null where the weights are plain arrays (no SIMD kernels) */
  memory: {
    /** random, written when the memory was made: workers reporting one id share one memory */
    arenaId: number;
    /** bytes of the model's tensors, each counted once */
    weightBytes: number;
    /** bytes handed out in the weights' memory: the weights, then every attached worker's scratch (one counter) */
    arenaUsedBytes: number;
    /** the memory's size */
    arenaBytes: number;
  } | null;
}

export interface EngineStats {
  /** every worker's prefix cache together (sizes, budgets and peaks summed); null when off */
  prefixCache: PrefixCacheStats | null;
  /** one entry per worker (one in-process) */
  workers: WorkerStats[];
}

/** request and response shape of each operation */
export interface EngineOps {
  info: { req: Record<string, never>; res: EngineInfo };
  stats: { req: Record<never, never>; res: WorkerStats };
  tokenize: { req: { texts: string[]; addBos: boolean }; res: number[][] };
  decode: { req: { ids: number[] }; res: string };
  render: { req: { messages: ChatMessage[]; prefill: string }; res: string };
  generate: { req: { promptIds: number[]; params: GenerateParams; stream: boolean; intervention?: InterventionSpec }; res: GenerateResult };
  /** each continuation's log-likelihood after one shared prefix */
  score: { req: { prefixIds: number[]; continuations: number[][]; intervention?: InterventionSpec }; res: ContinuationScore[] };
  hidden: { req: { ids: number[]; params: CaptureOptions; intervention?: InterventionSpec }; res: HiddenStates };
}
export type EngineOp = keyof EngineOps;
export type EngineRequest = { [K in EngineOp]: { op: K } & EngineOps[K]['req'] }[EngineOp];
export type RequestOf<K extends EngineOp> = { op: K } & EngineOps[K]['req'];

export interface StreamedToken {
  id: number;
  text: string;
}

export interface WorkerInit {
  modelSpec: ModelSpec;
  /** Int32Array(1) over it: non-zero = abort the request in flight */
  abortFlag: SharedArrayBuffer;
  prefixCache?: PrefixCacheOption;
  /** first worker of a pool: answer 'ready' with the weights' descriptor so the others attach to the same memory */
  share?: boolean;
  /** a further worker of a pool: the first worker's weights (read in place, not loaded again) */
  shared?: SharedWeights;
  /** internal (the benchmark's switch): split each big matmul's columns over this many threads (matmul-team.ts) */
  matmulThreads?: number;
  /** fused multiply-add in the kernels (default auto) */
  fma?: FmaMode;
}

export type ClientMessage = { type: 'request'; id: number; request: EngineRequest };

export type WorkerMessage =
  /** shared: the weights' descriptor when asked to share (null: they cannot be shared, e.g. no SIMD kernels) */
  | { type: 'ready'; info: EngineInfo; shared?: SharedWeights | null }
  | { type: 'load-error'; error: SerializedError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'token'; id: number; token: StreamedToken };

export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof SclabError) return { code: e.code, message: e.message, retryable: e.retryable };
  return { code: 'internal', message: e instanceof Error ? (e.stack ?? e.message) : String(e), retryable: false };
}

export function deserializeError(s: SerializedError): SclabError {
  const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(s.code) ? s.code : 'internal';
  return new SclabError(code, s.message, { retryable: s.retryable });
}
