// The label-probability rank's request: continue the round's prefill plus the answer format's opening (" (") for
// exactly one token and read that position's top-k log-probabilities, from which the runner ranks the options by
// their label token. Needs a server that continues an assistant prefill (continue_final_message) and returns
// top_logprobs; see docs/numbers.md.
import type { LabelLogprobsRequest, TopAlternative } from '../backend';
import { SclabError } from '../../model/errors';
import type { ChatResponse } from './responses';

/** as many alternatives as OpenAI-compatible servers accept (OpenAI and vLLM's default cap at 20) */
export const LABEL_TOP_LOGPROBS = 20;

export function labelLogprobsBody(model: string, req: LabelLogprobsRequest): Record<string, unknown> {
  return {
    model,
    messages: [...req.messages, { role: 'assistant', content: req.prefill }],
    max_tokens: 1,
    temperature: 0,
    logprobs: true,
    top_logprobs: LABEL_TOP_LOGPROBS,
    continue_final_message: true,
    add_generation_prompt: false,
  };
}

/** The top-k alternatives of the one generated position; a reply without them cannot rank. */
export function firstPositionAlternatives(res: ChatResponse, what: string): TopAlternative[] {
  const pos = res.choices[0]?.logprobs?.content?.[0];
  const top = pos?.top_logprobs;
  if (!pos || !top || top.length === 0) {
    throw new SclabError('malformed_response', `${what}: the answer has no top_logprobs for its first token`, { retryable: true });
  }
  return top.map((t) => ({ token: t.token, logprob: t.logprob }));
}
