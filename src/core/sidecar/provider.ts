// What a sidecar server serves: a model that yields hidden states and log-likelihoods, and optionally generation
// for the OpenAI-compatible routes. The engine provider implements it on the embedded engine; the bench's synthetic
// provider on random vectors (to measure the wire without a big model).
import type { HiddenConvention, HiddenModule, HiddenPosition, HiddenStatesResult, Steering } from '../backends/backend';
import type { ChatMessage } from '../model/chat';
import type { ModelIdentity } from '../engine/types';
import type { SidecarInput } from './protocol';

export interface HiddenQuery {
  layers: number[] | 'all';
  position: HiddenPosition;
  module: HiddenModule;
  convention: HiddenConvention;
}

export interface ProviderInfo {
  model: string;
  nLayers: number;
  dModel: number;
  identity?: ModelIdentity;
  /** the model's context length, when it has one */
  maxTokens?: number;
  implementation: string;
}

export interface ContinuationLikelihood {
  sum: number;
  tokens: string[];
  logprobs: number[];
}

/** one token of an answer, with its log-probability and top alternatives (when asked for) */
export interface TokenWithLogprob {
  text: string;
  /** null: no log-probability (the first token of a prompt without BOS) */
  logprob: number | null;
  top?: Array<{ token: string; logprob: number }>;
}

export interface GenerationParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  stop: string[];
  /** top alternatives per generated token (0 = none) */
  topLogprobs: number;
}

export interface Generated {
  text: string;
  /** 'stop' (end of sequence or stop sequence) or 'length' */
  finishReason: 'stop' | 'length';
  tokens: TokenWithLogprob[];
  promptTokens: number;
}

export interface Completion {
  /** the prompt's tokens (BOS left out); present when echo was asked for */
  echoed?: TokenWithLogprob[];
  generated: Generated;
}

/** The provider a server answers from, and the model name it answers to. */
export interface ServedModel {
  provider: SidecarProvider;
  model: string;
}

export interface SidecarProvider {
  info(): Promise<ProviderInfo>;
  /** true: hiddenStates, loglikelihood and generate honour `steer` (capability steer) */
  readonly steers?: boolean;
  hiddenStates(input: SidecarInput, q: HiddenQuery, signal?: AbortSignal, steer?: Steering): Promise<HiddenStatesResult>;
  loglikelihood?(input: SidecarInput, continuations: string[], signal?: AbortSignal, steer?: Steering): Promise<ContinuationLikelihood[]>;
  /** POST /v1/generate: one answer to a prompt or a conversation (+ prefill) */
  generate?(input: SidecarInput, params: GenerationParams, signal?: AbortSignal, steer?: Steering): Promise<Generated>;
  /** the rendered text of an input and the ids the model runs on (BOS included where the model has one) */
  tokenize?(input: SidecarInput, signal?: AbortSignal): Promise<{ text: string; ids: number[]; bosId: number | null }>;
  /** generation for the OpenAI-compatible routes */
  chat?(messages: ChatMessage[], prefill: string, params: GenerationParams, signal?: AbortSignal): Promise<Generated>;
  complete?(prompt: string, echo: boolean, params: GenerationParams, signal?: AbortSignal): Promise<Completion>;
  close(): Promise<void>;
}
