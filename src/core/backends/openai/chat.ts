import type { ChatRequest, ChatResult } from '../backend';
import type { ChatResponse } from './responses';
import type { PrefillMode } from './options';

/** how many generated positions keep their top-k alternatives: enough for an option label, small for records */
export const TOP_LOGPROB_POSITIONS = 8;

/** The body of one chat completion request for a round, in the given prefill mode. */
export function chatBody(model: string, req: ChatRequest, mode: PrefillMode, withLogprobs: boolean): Record<string, unknown> {
  const { decoding, prefill } = req;
  const messages = prefill ? [...req.messages, { role: 'assistant', content: prefill }] : [...req.messages];
  const body: Record<string, unknown> = {
    model,
    messages,
    temperature: decoding.temperature,
    top_p: decoding.topP,
    max_tokens: decoding.maxTokens,
  };
  if (decoding.seed !== undefined) body.seed = decoding.seed;
  if (decoding.stop.length > 0) body.stop = decoding.stop;
  if (withLogprobs && decoding.topLogprobs > 0) {
    body.logprobs = true;
    body.top_logprobs = decoding.topLogprobs;
  }
  if (mode === 'continue' && prefill) {
    body.continue_final_message = true;
    body.add_generation_prompt = false;
  }
  return body;
}

/** The generated text (after the prefill), why it ended, and the first positions' alternatives. */
export function chatResult(res: ChatResponse): ChatResult {
  const choice = res.choices[0] as ChatResponse['choices'][number];
  const result: ChatResult = { text: choice.message.content ?? '' };
  if (choice.finish_reason) result.finishReason = choice.finish_reason;
  const content = choice.logprobs?.content;
  if (content && content.length > 0) {
    result.generatedTokens = content.slice(0, TOP_LOGPROB_POSITIONS).map((pos) => pos.token);
    result.topLogprobs = content.slice(0, TOP_LOGPROB_POSITIONS).map((pos) =>
      pos.top_logprobs && pos.top_logprobs.length > 0
        ? pos.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob }))
        : [{ token: pos.token, logprob: pos.logprob }],
    );
  }
  const usage = res.usage;
  if (usage && (usage.prompt_tokens != null || usage.completion_tokens != null)) {
    result.usage = {};
    if (usage.prompt_tokens != null) result.usage.promptTokens = usage.prompt_tokens;
    if (usage.completion_tokens != null) result.usage.completionTokens = usage.completion_tokens;
  }
  return result;
}
