import type { ChatMessage } from '../../model/chat';

/**
 * How the assistant prefill reaches the server:
 * - 'continue': a trailing assistant message with `continue_final_message: true, add_generation_prompt: false`
 *   (vLLM, SGLang; servers that ignore unknown fields accept it too). The reply continues the prefill.
 * - 'trailing-assistant': a trailing assistant message and nothing else (llama.cpp server and Ollama continue it
 *   on their own). The reply continues the prefill.
 * - 'none': the server cannot continue a message (OpenAI proper). The prefill is still sent as a trailing
 *   assistant message and the reply is taken as the continuation, but the model may treat it as a new turn.
 */
export type PrefillMode = 'continue' | 'trailing-assistant' | 'none';

/** Turns a round's conversation and prefill into the raw text a /completions request scores. */
export type PromptRenderer = (messages: ChatMessage[], prefill: string) => string;

export interface OpenAIBackendOptions {
  /** e.g. http://localhost:8000/v1; credentials in it are removed (pass the key as apiKey) */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** deadline of one request, body included */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  /** cap on one response body (default 32 MiB); a bigger answer fails its attempt */
  maxResponseBytes?: number;
  /** set to skip detection on connect */
  prefillMode?: PrefillMode;
  /** the model's chat template for option scoring; without it a plain `role: content` transcript is used */
  renderPrompt?: PromptRenderer;
}
