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

/**
 * What an error can tell the user to change or do. Core names them in plain words; each host says them its own way
 * (the CLI by its flags and commands, the extension by its settings and commands), so core text holds no host words.
 */
export type Remedy = 'scoreName' | 'probeModule' | 'textField' | 'labelField' | 'positiveLabels' | 'positiveTexts' | 'negativeTexts' | 'itemLimit' | 'heldOut' | 'model' | 'trainProbe';
export type RemedyWords = Record<Remedy, string>;

/** Core's own words, used when no host rewords a message (and in every message's `.message`). */
export const PLAIN_REMEDY_WORDS: RemedyWords = {
  scoreName: 'score name',
  probeModule: 'module',
  textField: 'the text field',
  labelField: 'the label field',
  positiveLabels: 'positive labels',
  positiveTexts: 'the positive texts',
  negativeTexts: 'the negative texts',
  itemLimit: 'the item limit',
  heldOut: 'the held-out share',
  model: 'the model',
  trainProbe: 'probe training on this model',
};

/** A message that names remedies, written once for every host's words. */
export type Advice = (say: RemedyWords) => string;

export class SclabError extends Error {
  readonly code: ErrorCode;
  /** true when the same request may succeed if sent again */
  readonly retryable: boolean;
  /** server-requested delay before the next try, when it gave one */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  /** the message again, for a host to say its remedies in its own words (see `messageIn`) */
  readonly advice: Advice | undefined;

  constructor(
    code: ErrorCode,
    message: string | Advice,
    opts: { retryable?: boolean; retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(typeof message === 'string' ? message : message(PLAIN_REMEDY_WORDS), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SclabError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
    this.advice = typeof message === 'string' ? undefined : message;
  }
}

/** An error's message with its remedies in a host's words (the plain message when it names none). */
export function messageIn(err: unknown, words: RemedyWords): string {
  // by shape, not instanceof: the extension's host bundle and its core bundle each hold their own SclabError class
  const advice = (err as { advice?: unknown } | null)?.advice;
  if (typeof advice === 'function') return (advice as Advice)(words);
  return err instanceof Error ? err.message : String(err);
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
