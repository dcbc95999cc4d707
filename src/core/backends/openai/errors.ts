import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { SclabError } from '../../model/errors';

const MAX_SERVER_TEXT = 300;

/** the shortest run of a secret's characters that is redacted wherever it appears (a server may quote a prefix) */
const MIN_SECRET_RUN = 8;

/** every MIN_SECRET_RUN-character window of a secret, of its base64 and base64url forms, lower-cased */
function secretWindows(secrets: readonly string[]): Set<string> {
  const windows = new Set<string>();
  for (const s of secrets) {
    const b64 = Buffer.from(s, 'utf8').toString('base64');
    for (const form of [s, b64.replace(/=+$/, ''), Buffer.from(s, 'utf8').toString('base64url')]) {
      const f = form.toLowerCase();
      for (let i = 0; i + MIN_SECRET_RUN <= f.length; i++) windows.add(f.slice(i, i + MIN_SECRET_RUN));
    }
  }
  return windows;
}

/**
 * Replaces every secret (API key, URL credentials) in a text: the whole value, and any run of 8 or more of its
 * characters, compared case-insensitively, also in base64 (servers echo keys upper-cased, cut short or encoded).
 * Shorter secrets are replaced only whole, and only from 4 characters up: shorter ones would match noise.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    out = out.split(s).join('[redacted]');
    if (s.length >= MIN_SECRET_RUN) out = out.split(Buffer.from(s, 'utf8').toString('base64')).join('[redacted]');
  }
  const windows = secretWindows(secrets.filter((s) => s.length >= MIN_SECRET_RUN));
  if (windows.size > 0) {
    const lower = out.toLowerCase();
    const hidden = new Uint8Array(out.length);
    for (let i = 0; i + MIN_SECRET_RUN <= lower.length; i++) {
      if (windows.has(lower.slice(i, i + MIN_SECRET_RUN))) hidden.fill(1, i, i + MIN_SECRET_RUN);
    }
    if (hidden.includes(1)) {
      let masked = '';
      for (let i = 0; i < out.length; i++) {
        if (!hidden[i]) masked += out[i];
        else if (i === 0 || !hidden[i - 1]) masked += '[redacted]';
      }
      out = masked;
    }
  }
  // Bearer tokens a server might quote back, whatever they are
  return out.replace(/Bearer\s+[^\s"',;)]+/gi, 'Bearer [redacted]');
}

/**
 * The delay a server asked for: `retry-after-ms` (milliseconds, non-standard, sent by OpenAI), else `retry-after`
 * (delta seconds or an HTTP date). Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return Math.round(v);
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A server's error text as stored: one line of printable characters, secrets redacted, at most 300 characters. */
function serverText(e: APIError, secrets: readonly string[]): string {
  const text = e.message
    .replace(/^\d{3}\s+/, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const clean = redact(text, secrets);
  return clean.length > MAX_SERVER_TEXT ? `${clean.slice(0, MAX_SERVER_TEXT)}…` : clean;
}

function statusError(e: APIError, what: string, secrets: readonly string[]): SclabError {
  const status = e.status as number;
  if (status === 401 || status === 403) {
    // the server's text is left out on purpose: servers quote (parts of) the rejected key
    return new SclabError('auth', `${what}: the server refused the credentials (HTTP ${status}); check the API key`, { status });
  }
  const detail = serverText(e, secrets);
  const suffix = detail ? `: ${detail}` : '';
  if (status === 429 || status === 408 || status === 409 || status >= 500) {
    const retryAfterMs = parseRetryAfter(e.headers);
    const wait = retryAfterMs === undefined ? '' : ` (server asks to retry after ${retryAfterMs} ms)`;
    const code = status === 429 ? 'rate_limit' : 'server';
    return new SclabError(code, `${what}: HTTP ${status}${wait}${suffix}`, { retryable: true, retryAfterMs, status });
  }
  return new SclabError('bad_request', `${what}: HTTP ${status}${suffix}`, { status });
}

/**
 * Maps whatever a request threw to a SclabError. Never keeps the original error as `cause`: SDK errors carry
 * headers and bodies that may quote credentials. Deadline and caller aborts are decided by the caller, which
 * knows which of the two fired.
 */
export function toSclabError(e: unknown, what: string, secrets: readonly string[]): SclabError {
  if (e instanceof SclabError) {
    return new SclabError(e.code, redact(e.message, secrets), {
      retryable: e.retryable,
      retryAfterMs: e.retryAfterMs,
      status: e.status,
    });
  }
  if (e instanceof APIUserAbortError) return new SclabError('cancelled', `${what}: cancelled`);
  if (e instanceof APIConnectionTimeoutError) {
    return new SclabError('timeout', `${what}: the server did not answer in time`, { retryable: true });
  }
  // our fetch's own verdicts (an answer over the size cap) travel inside the SDK's connection error
  if (e instanceof APIConnectionError && e.cause instanceof SclabError) return toSclabError(e.cause, what, secrets);
  if (e instanceof APIConnectionError) {
    const cause = e.cause instanceof Error ? describeCause(e.cause) : '';
    return new SclabError('network', redact(`${what}: connection failed${cause}`, secrets), { retryable: true });
  }
  if (e instanceof APIError && typeof e.status === 'number') return statusError(e, what, secrets);
  if (e instanceof SyntaxError) {
    return new SclabError('malformed_response', `${what}: the server answered with a body that is not valid JSON`, { retryable: true });
  }
  if (e instanceof TypeError) {
    // undici reports a connection dropped while reading the body as "TypeError: terminated"
    return new SclabError('network', redact(`${what}: connection failed while reading the answer (${e.message})`, secrets), {
      retryable: true,
    });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new SclabError('internal', redact(`${what}: unexpected failure: ${msg}`, secrets));
}

/** "fetch failed" says nothing; the cause's code (ECONNREFUSED, UND_ERR_SOCKET…) does. */
function describeCause(cause: Error): string {
  const inner = (cause as { cause?: unknown }).cause;
  const code = (inner as { code?: unknown } | undefined)?.code ?? (cause as { code?: unknown }).code;
  const text = inner instanceof Error ? inner.message : cause.message;
  return ` (${[code, text].filter((x) => typeof x === 'string' && x).join(': ')})`;
}
