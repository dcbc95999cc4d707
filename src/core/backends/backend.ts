import type { ChatMessage, Decoding } from '../model/chat';
import type { BackendDescription, Capabilities } from '../model/manifest';
import type { InterventionSpec } from '../engine/intervention';
import type { RequestScheduler } from './requests';

/**
 * A residual-stream intervention for one request (capability `steer`). positions 'all': every token of the prompt and
 * of the answer; 'input': from the start of this round's user turn on (the backend finds that token; the history
 * before it runs unsteered). The spec's own fromPosition is the backend's to set.
 */
export interface Steering {
  intervention: InterventionSpec;
  positions: 'all' | 'input';
}

export interface ChatRequest {
  /** the conversation up to and including the current user turn */
  messages: ChatMessage[];
  /** the start of the assistant answer; the backend continues it (or, where it cannot, asks for it honestly) */
  prefill: string;
  decoding: Decoding;
  steer?: Steering;
}

export interface ChatResult {
  /** the text generated after the prefill */
  text: string;
  finishReason?: string;
  /** top-k alternatives of the first generated tokens, when available */
  topLogprobs?: Array<Array<{ token: string; logprob: number }>>;
  /** the tokens generated at those positions */
  generatedTokens?: string[];
  usage?: { promptTokens?: number; completionTokens?: number };
}

export interface OptionScoreRequest {
  messages: ChatMessage[];
  prefill: string;
  /** continuations to score after the full round input (e.g. " (a)", " (b)") */
  continuations: string[];
  steer?: Steering;
}

export interface OptionScoreResult {
  /** summed log-likelihood of each continuation */
  logprobs: number[];
  /** per-token log-likelihoods of each continuation */
  tokenLogprobs: number[][];
}

export type TopAlternative = { token: string; logprob: number };

export interface LabelLogprobsRequest {
  messages: ChatMessage[];
  /** the round's prefill plus the answer format's opening, e.g. "… answer choice is (" */
  prefill: string;
}

export type HiddenModule = 'residual' | 'attn' | 'mlp';
export type HiddenPosition = 'last' | 'mean' | 'all';
/** sclab: every entry un-normed; hf: Hugging Face's output_hidden_states (final norm applied to the last entry) */
export type HiddenConvention = 'sclab' | 'hf';

export interface HiddenStatesRequest {
  messages: ChatMessage[];
  prefill: string;
  /** residual: 0 = embeddings, l = after layer l; attn/mlp: l = layer l (1-based). Default: all of them */
  layers?: number[];
  position: HiddenPosition;
  module: HiddenModule;
  convention?: HiddenConvention;
  steer?: Steering;
}

export interface HiddenStatesResult {
  module: HiddenModule;
  position: HiddenPosition;
  convention: HiddenConvention;
  layers: number[];
  /** one per requested layer: [dim], or [nTokens * dim] for position 'all' */
  vectors: Float32Array[];
  dim: number;
  nTokens: number;
  /** positions of special tokens (BOS, template markers), left out of 'mean'; absent from servers that do not say */
  specialPositions?: number[];
}

/**
 * A model endpoint. Backends throw SclabError with a code; retry policy lives in the runner's scheduler. A backend
 * that sends several HTTP requests per call (option scoring) takes the scheduler with `attachScheduler` and runs each
 * request through it; the runner schedules (and retries) whole calls of any other backend.
 */
export interface Backend {
  readonly kind: BackendDescription['kind'];
  /** probe what the backend can do (cheap requests); called once before a run */
  connect(signal?: AbortSignal): Promise<BackendDescription>;
  chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
  /** exact option log-likelihoods; present when capabilities.optionLogprobs */
  scoreOptions?(req: OptionScoreRequest, signal?: AbortSignal): Promise<OptionScoreResult>;
  /**
   * the top-k alternatives of the one token that continues `prefill` (greedy, one token): the label-probability
   * rank; present when capabilities.labelLogprobs
   */
  labelLogprobs?(req: LabelLogprobsRequest, signal?: AbortSignal): Promise<TopAlternative[]>;
  /** per-layer activations of the round input; present when capabilities.hiddenStates */
  hiddenStates?(req: HiddenStatesRequest, signal?: AbortSignal): Promise<HiddenStatesResult>;
  /** the run's request scheduler (undefined: none); present on backends that schedule each request themselves */
  attachScheduler?(scheduler: RequestScheduler | undefined): void;
  /** what the backend has to say once a run is over (cache reuse, evictions), appended to the manifest's notes */
  runNotes?(): Promise<string[]>;
  close(): Promise<void>;
}

export const NO_CAPABILITIES: Capabilities = {
  chat: false,
  optionLogprobs: false,
  topLogprobs: false,
  hiddenStates: false,
  probeScores: false,
};

/** Core never reads the environment: hosts resolve secrets and hand them over through this. */
export interface SecretProvider {
  get(name: string): Promise<string | undefined>;
}
