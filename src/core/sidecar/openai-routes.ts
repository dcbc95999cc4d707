// OpenAI-compatible routes on the sidecar server: /v1/models, /v1/chat/completions (logprobs, top_logprobs,
// continue_final_message) and /v1/completions (echo + logprobs: the prompt's own token log-probabilities, with
// max_tokens 0 allowed) — so any OpenAI-compatible client, our openai backend included, gets exact log-likelihoods
// from a local model. Unknown fields are ignored, as OpenAI-compatible servers do; streaming and n > 1 are refused.
import { z } from 'zod';
import { ChatMessageSchema, type ChatMessage } from '../model/chat';
import { parseBody } from './http';
import type { Generated, GenerationParams, ServedModel, TokenWithLogprob } from './provider';
import { WireError } from './wire-error';

const Common = {
  model: z.string(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  n: z.literal(1).nullish(),
  stream: z.literal(false).nullish(),
};

const ChatBody = z.object({
  ...Common,
  messages: z.array(ChatMessageSchema).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  continue_final_message: z.boolean().nullish(),
  add_generation_prompt: z.boolean().nullish(),
});

const CompletionBody = z.object({
  ...Common,
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  max_tokens: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(20).nullish(),
});

/** POST /tokenize as vLLM (messages or prompt) and llama.cpp (content) take it */
const TokenizeBody = z.object({
  model: z.string().nullish(),
  messages: z.array(ChatMessageSchema).min(1).nullish(),
  prompt: z.string().nullish(),
  content: z.string().nullish(),
  add_generation_prompt: z.boolean().nullish(),
  continue_final_message: z.boolean().nullish(),
  add_special_tokens: z.boolean().nullish(),
});

const DEFAULT_MAX_TOKENS = 16;
let counter = 0;
const newId = (prefix: string): string => `${prefix}-sclab-${Date.now().toString(36)}-${(counter++).toString(36)}`;
const now = (): number => Math.floor(Date.now() / 1000);

function checkModel(asked: string, served: string): void {
  // like vLLM: another model name is a 404, which clients read as "model not found"
  if (asked !== served) throw new WireError('not_found', `model "${asked}" is not served here; this server serves "${served}"`);
}

function params(b: z.infer<typeof ChatBody> | z.infer<typeof CompletionBody>, maxTokens: number, topLogprobs: number): GenerationParams {
  const stop = b.stop == null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  return { maxTokens, temperature: b.temperature ?? 1, topP: b.top_p ?? 1, stop, topLogprobs, ...(b.seed != null ? { seed: b.seed } : {}) };
}

const bytes = (s: string): number[] => [...Buffer.from(s, 'utf8')];

function chatLogprobs(tokens: TokenWithLogprob[]): unknown {
  return {
    content: tokens.map((t) => ({
      token: t.text,
      logprob: t.logprob,
      bytes: bytes(t.text),
      top_logprobs: (t.top ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: bytes(a.token) })),
    })),
  };
}

export function modelsAnswer(model: string): unknown {
  return { object: 'list', data: [{ id: model, object: 'model', created: now(), owned_by: 'sclab' }] };
}

/** throws when the input text is over the server's limit (before anything is tokenized) */
export type InputCheck = (input: { prompt?: string; messages?: ChatMessage[] }) => void;

export async function chatCompletions({ provider, model }: ServedModel, body: unknown, signal: AbortSignal, checkInput: InputCheck = () => undefined): Promise<unknown> {
  if (!provider.chat) throw new WireError('unsupported', 'this server does not generate text');
  const b = parseBody(ChatBody, body, 'POST /v1/chat/completions');
  checkModel(b.model, model);
  checkInput({ messages: b.messages });
  const last = b.messages[b.messages.length - 1]!;
  // continue_final_message: the trailing assistant message is a prefill the answer continues
  const continues = b.continue_final_message === true;
  if (continues && last.role !== 'assistant') throw new WireError('bad_request', 'continue_final_message needs the last message to be an assistant message');
  const messages = continues ? b.messages.slice(0, -1) : b.messages;
  const prefill = continues ? last.content : '';
  const k = b.logprobs ? (b.top_logprobs ?? 0) : 0;
  const g: Generated = await provider.chat(messages, prefill, params(b, b.max_completion_tokens ?? b.max_tokens ?? DEFAULT_MAX_TOKENS, k), signal);
  return {
    id: newId('chatcmpl'),
    object: 'chat.completion',
    created: now(),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: g.text }, finish_reason: g.finishReason, logprobs: b.logprobs ? chatLogprobs(g.tokens) : null }],
    usage: { prompt_tokens: g.promptTokens, completion_tokens: g.tokens.length, total_tokens: g.promptTokens + g.tokens.length },
  };
}

export async function completions({ provider, model }: ServedModel, body: unknown, signal: AbortSignal, checkInput: InputCheck = () => undefined): Promise<unknown> {
  if (!provider.complete) throw new WireError('unsupported', 'this server does not generate text');
  const b = parseBody(CompletionBody, body, 'POST /v1/completions');
  checkModel(b.model, model);
  const prompt = typeof b.prompt === 'string' ? b.prompt : b.prompt[0]!;
  checkInput({ prompt });
  const echo = b.echo === true;
  const k = b.logprobs ?? 0;
  const c = await provider.complete(prompt, echo, params(b, b.max_tokens ?? DEFAULT_MAX_TOKENS, k), signal);
  const g = c.generated;
  let logprobs: unknown = null;
  if (b.logprobs != null) {
    // echoed prompt tokens come without alternatives (the engine scores the text, it does not rank the vocabulary there)
    const all: TokenWithLogprob[] = [...(c.echoed ?? []), ...g.tokens];
    const offsets: number[] = [];
    let at = 0;
    for (const t of all) {
      offsets.push(at);
      at += t.text.length;
    }
    logprobs = {
      tokens: all.map((t) => t.text),
      token_logprobs: all.map((t) => t.logprob),
      top_logprobs: all.map((t) => (t.top ? Object.fromEntries(t.top.map((a) => [a.token, a.logprob])) : null)),
      text_offset: offsets,
    };
  }
  return {
    id: newId('cmpl'),
    object: 'text_completion',
    created: now(),
    model,
    choices: [{ index: 0, text: echo ? prompt + g.text : g.text, finish_reason: g.finishReason, logprobs }],
    usage: { prompt_tokens: g.promptTokens, completion_tokens: g.tokens.length, total_tokens: g.promptTokens + g.tokens.length },
  };
}

/**
 * POST /tokenize: the ids this server runs the model on — a chat rendered as /v1/chat/completions renders it (a final
 * assistant message with continue_final_message is the prefill), or a text; BOS in front only when missing. Answers
 * vLLM's shape {count, max_model_len, tokens}, which also carries llama.cpp's {tokens}.
 */
export async function servingTokenize({ provider, model }: ServedModel, maxChars: number, body: unknown, signal: AbortSignal): Promise<unknown> {
  if (!provider.tokenize) throw new WireError('unsupported', 'this server does not tokenize');
  const b = parseBody(TokenizeBody, body, 'POST /tokenize');
  if (b.model != null) checkModel(b.model, model);
  const text = b.prompt ?? b.content;
  if ((b.messages == null) === (text == null)) throw new WireError('bad_request', 'POST /tokenize: give exactly one of "messages", "prompt" or "content"');
  let input: { prompt: string } | { messages: z.infer<typeof ChatMessageSchema>[]; prefill: string };
  if (b.messages) {
    const last = b.messages[b.messages.length - 1]!;
    const continues = b.continue_final_message === true;
    if (continues && last.role !== 'assistant') throw new WireError('bad_request', 'continue_final_message needs the last message to be an assistant message');
    if (!continues && b.add_generation_prompt === false) throw new WireError('bad_request', 'POST /tokenize: this server renders a chat with add_generation_prompt or continue_final_message');
    if (continues && b.messages.length < 2) throw new WireError('bad_request', 'continue_final_message: there is no conversation before the assistant message');
    input = continues ? { messages: b.messages.slice(0, -1), prefill: last.content } : { messages: b.messages, prefill: '' };
  } else {
    input = { prompt: text! };
  }
  const chars = 'prompt' in input ? input.prompt.length : input.prefill.length + input.messages.reduce((n, m) => n + m.content.length, 0);
  if (chars > maxChars) throw new WireError('prompt_too_long', `the input text is ${chars} characters; this server accepts at most ${maxChars}`);
  const t = await provider.tokenize(input, signal);
  const info = await provider.info();
  return { count: t.ids.length, max_model_len: info.maxTokens ?? null, tokens: t.ids };
}
