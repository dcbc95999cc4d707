/** Every error the tool raises carries one of these codes, so hosts can react without parsing messages. */
export const ERROR_CODES = [
  'config', // bad flags, settings or experiment file
  'dataset', // unreadable or invalid dataset file
  'io', // file system failure
  'auth', // the backend refused the credentials
  'cancelled', // the user or a signal stopped the work
  'timeout', // one request ran past its deadline
  'rate_limit', // 429 from the backend
  'server', // 5xx or 408/409 from the backend
  'network', // connection refused, reset, DNS
  'malformed_response', // the backend answered something we cannot read
  'bad_request', // 4xx other than the above: the request itself is wrong, retrying will not help
  'unsupported', // the backend lacks a capability the experiment needs
  'model', // a model could not be loaded or resolved
  'internal', // a bug
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class SclabError extends Error {
  readonly code: ErrorCode;
  /** true when the same request may succeed if sent again */
  readonly retryable: boolean;
  /** server-requested delay before the next try, when it gave one */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SclabError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}

/** The last error of a request that was sent `attempts` times and failed every time: its code, message and status. */
export class RetryExhausted extends SclabError {
  constructor(
    readonly last: SclabError,
    readonly attempts: number,
  ) {
    super(last.code, last.message, { retryable: last.retryable, retryAfterMs: last.retryAfterMs, status: last.status, cause: last });
    this.name = 'RetryExhausted';
  }
}

export function isSclabError(e: unknown): e is SclabError {
  return e instanceof SclabError;
}

/** Errors that stop a whole run rather than becoming a per-item error record. */
export function abortsRun(e: unknown): boolean {
  return isSclabError(e) && (e.code === 'config' || e.code === 'io' || e.code === 'auth' || e.code === 'cancelled');
}

export function cancelledError(): SclabError {
  return new SclabError('cancelled', 'cancelled');
}
