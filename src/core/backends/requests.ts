// The contract between whatever sends HTTP requests (a backend's request gate, a scorer's poster) and the run's
// request scheduler (src/core/runner/scheduler.ts): the scheduler decides when a request may go (slots in flight,
// requests and tokens per minute, server pauses) and retries that one request on its own.

/** One request as the scheduler runs it. */
export interface RequestSpec<T> {
  /** e.g. "POST /chat/completions"; names the request in records and messages */
  what: string;
  signal?: AbortSignal;
  /**
   * the tokens it will likely use (prompt characters / 4 + max_tokens), charged to a tokens-per-minute budget; a
   * function is called (once) only when a token budget needs the number
   */
  estimatedTokens?: number | (() => number);
  /** sends it once; throws SclabError (retryable ones are sent again) */
  send: (signal: AbortSignal) => Promise<T>;
  /** the tokens it really used (the server's `usage`), which replace the estimate */
  usedTokens?: (value: T) => number | undefined;
  /** a deadline per attempt, for senders that have none of their own */
  timeoutMs?: number;
}

export interface RequestScheduler {
  /** runs one request: waits for a slot and for budget, retries it alone, returns its value */
  request<T>(spec: RequestSpec<T>): Promise<T>;
  /** the rate-limit headers (x-ratelimit-*) of any answer from the service this scheduler guards */
  observeHeaders(headers: Headers): void;
}

/** Tokens a request will likely use: ~4 characters a token for the text sent, plus what it may generate. */
export function estimateTokens(text: string, maxTokens: number | undefined): number {
  return Math.ceil(text.length / 4) + Math.max(0, maxTokens ?? 0);
}

/** `usage.total_tokens` (or prompt + completion) of an OpenAI-style answer, when it has one. */
export function usageTokens(value: unknown): number | undefined {
  const usage = (value as { usage?: { total_tokens?: unknown; prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  if (!usage || typeof usage !== 'object') return undefined;
  if (typeof usage.total_tokens === 'number' && Number.isFinite(usage.total_tokens)) return usage.total_tokens;
  const p = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : undefined;
  const c = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : undefined;
  return p === undefined && c === undefined ? undefined : (p ?? 0) + (c ?? 0);
}
