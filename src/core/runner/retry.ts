import { linkSignal } from '../util/signal';
import { SclabError, cancelledError, isSclabError } from '../model/errors';

// The retry policy and its pieces; the loop that uses them is the request scheduler's (scheduler.ts), one per request.

export interface RetryPolicy {
  maxRetries: number;
  /** first backoff; doubles per attempt like the OpenAI SDK (0.5 s, 1 s, 2 s …) */
  initialDelayMs: number;
  maxDelayMs: number;
  /** a server's retry-after above this is not honoured: the attempt fails instead of stalling the run */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 4,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** Delay before retry number `attempt` (1-based), with the SDK's jitter of up to -25 %. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return base * (1 - random() * 0.25);
}

export function retryDelayFor(err: unknown, attempt: number, policy: RetryPolicy, random?: () => number): number | null {
  if (!isSclabError(err) || !err.retryable) return null;
  if (attempt > policy.maxRetries) return null;
  if (err.retryAfterMs !== undefined && err.retryAfterMs >= 0 && err.retryAfterMs <= policy.maxRetryAfterMs) {
    return err.retryAfterMs;
  }
  return backoffDelayMs(attempt, policy, random);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` with a per-attempt deadline. The attempt's signal fires on the run's cancellation or the deadline; a
 * backend that ignores its signal is still cut off at the deadline.
 */
export async function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  runSignal?: AbortSignal,
): Promise<T> {
  if (runSignal?.aborted) throw cancelledError();
  const attempt = linkSignal(runSignal);
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
      reject(new SclabError('timeout', `request timed out after ${timeoutMs} ms`, { retryable: true }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(attempt.signal), deadline]);
  } catch (err) {
    if (runSignal?.aborted) throw cancelledError();
    if (timedOut) throw new SclabError('timeout', `request timed out after ${timeoutMs} ms`, { retryable: true });
    throw err;
  } finally {
    clearTimeout(timer);
    attempt.unlink();
  }
}
