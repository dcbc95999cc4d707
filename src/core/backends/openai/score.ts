// Exact option log-likelihoods from a legacy /completions request with `echo: true`: the server returns a
// log-probability for every token of the prompt, and we sum those of the option's continuation.
import { SclabError } from '../../model/errors';
import type { CompletionResponse } from './responses';

export interface TokenSpan {
  token: string;
  start: number;
  end: number;
  logprob: number | null;
}

/** The body of one scoring request: the prompt echoed back with logprobs, nothing (or one token) generated. */
export function scoreBody(model: string, text: string, maxTokens: 0 | 1): Record<string, unknown> {
  return { model, prompt: text, echo: true, logprobs: 1, max_tokens: maxTokens, temperature: 0 };
}

/**
 * Token spans (character offsets into `text`) of an echoed prompt. Offsets come from joining the tokens when they
 * spell the text (exact in JavaScript's UTF-16 units), else from the server's `text_offset` (which a server may
 * count in code points or bytes; the two agree for text without characters outside the BMP/ASCII respectively).
 * Throws when the answer does not cover the prompt, i.e. the server ignored `echo`.
 */
export function echoedSpans(res: CompletionResponse, text: string, what: string): TokenSpan[] {
  const lp = res.choices[0]?.logprobs;
  const tokens = lp?.tokens;
  const values = lp?.token_logprobs;
  if (!tokens || !values || tokens.length !== values.length) {
    throw new SclabError('malformed_response', `${what}: the answer has no token log-probabilities`, { retryable: true });
  }
  const joined = tokens.join('');
  let starts: number[];
  if (joined.startsWith(text)) {
    starts = [];
    let at = 0;
    for (const t of tokens) {
      starts.push(at);
      at += t.length;
    }
  } else if (lp.text_offset && lp.text_offset.length === tokens.length) {
    starts = lp.text_offset;
  } else {
    throw new SclabError('unsupported', `${what}: the server did not echo the prompt's tokens (echo ignored?)`);
  }
  if (starts[0] !== 0) {
    throw new SclabError('unsupported', `${what}: the server did not echo the prompt's tokens (echo ignored?)`);
  }
  return tokens.map((token, i) => {
    const start = starts[i] as number;
    const next = starts[i + 1];
    return { token, start, end: next !== undefined && next >= start ? next : start + token.length, logprob: values[i] ?? null };
  });
}

/**
 * The continuation's tokens: those ending after `boundary` (where the round input ends) and starting before
 * `end` (where the prompt ends; later tokens were generated). A token that straddles the boundary (it starts in
 * the round input and ends in the continuation, e.g. " (" when the prefill ends with a space and the option is
 * "(a)") is counted as part of the continuation: it carries the option's first characters, and its probability
 * is conditioned only on text before it. Options that start alike share such a token, so the ranking stays fair.
 */
export function continuationTokens(spans: TokenSpan[], boundary: number, end: number): TokenSpan[] {
  return spans.filter((s) => s.end > boundary && s.start < end);
}

/** Sums a continuation's token log-probabilities; a missing value makes the score unknowable, not zero. */
export function sumContinuation(tokens: TokenSpan[], what: string): { sum: number; perToken: number[] } {
  const perToken: number[] = [];
  for (const t of tokens) {
    if (t.logprob === null || !Number.isFinite(t.logprob)) {
      throw new SclabError('unsupported', `${what}: no log-probability for token ${JSON.stringify(t.token)} at offset ${t.start}`);
    }
    perToken.push(t.logprob);
  }
  return { sum: perToken.reduce((a, b) => a + b, 0), perToken };
}
