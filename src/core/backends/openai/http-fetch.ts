// A fetch for the SDK built on node:http(s) with a keep-alive agent. The SDK's requests are small JSON exchanges
// that we never stream, and Node 20's built-in fetch costs several times more CPU per request than node:http: at
// 50 requests in flight that overhead, not the server, sets the pace of a run (see bench:runner).
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { SclabError } from '../../model/errors';

function headerRecord(init: HeadersInit | undefined): Record<string, string> {
  return plainHeaderRecord(init) ?? normalizedHeaderRecord(init);
}

function normalizedHeaderRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/**
 * A plain object of string values needs no Headers object (a run's every request passes one): the same record, names
 * lower-cased. Anything a Headers object would change (values with surrounding whitespace, one name in two spellings)
 * or check (other value types) goes the general way.
 */
function plainHeaderRecord(init: HeadersInit | undefined): Record<string, string> | undefined {
  if (init === undefined || init === null || typeof init !== 'object' || Array.isArray(init) || init instanceof Headers) return undefined;
  if (Object.getPrototypeOf(init) !== Object.prototype) return undefined;
  const out: Record<string, string> = {};
  for (const name of Object.keys(init)) {
    const value = (init as Record<string, unknown>)[name];
    const key = name.toLowerCase();
    if (typeof value !== 'string' || value !== value.trim() || key in out) return undefined;
    out[key] = value;
  }
  return out;
}

/** the iteration methods of Headers, which the project's lib typings (no DOM iterables) leave out */
interface HeadersIteration {
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
// cast: the platform's Headers has these methods (Node 18+); only the typings lack them
const iteration = Headers.prototype as unknown as HeadersIteration;

/**
 * An answer's headers as a Headers object that is filled only when something beyond get/has asks for it: a run
 * reads two or three headers of each answer (content type, rate limits), and filling a Headers object header by
 * header costs more than the rest of reading the answer. get/has read node's parsed headers with fetch's rules (the
 * values of a repeated header joined by ", ").
 */
class AnswerHeaders extends Headers {
  private raw: string[] | undefined;
  private distinct: NodeJS.Dict<string[]> | undefined;

  constructor(raw: string[], distinct: () => NodeJS.Dict<string[]>) {
    super();
    this.raw = raw;
    this.lazyDistinct = distinct;
  }

  private lazyDistinct: (() => NodeJS.Dict<string[]>) | undefined;

  /** fills the Headers object itself; from then on every method is the platform's */
  private fill(): void {
    const raw = this.raw;
    if (!raw) return;
    this.raw = undefined;
    this.distinct = undefined;
    this.lazyDistinct = undefined;
    for (let i = 0; i < raw.length; i += 2) super.append(raw[i]!, raw[i + 1]!);
  }

  private lookup(name: string): string[] | undefined {
    this.distinct ??= this.lazyDistinct!();
    return this.distinct[name.toLowerCase()];
  }

  override get(name: string): string | null {
    if (!this.raw) return super.get(name);
    return this.lookup(name)?.join(', ') ?? null;
  }

  override has(name: string): boolean {
    if (!this.raw) return super.has(name);
    return this.lookup(name) !== undefined;
  }

  override append(name: string, value: string): void {
    this.fill();
    super.append(name, value);
  }

  override set(name: string, value: string): void {
    this.fill();
    super.set(name, value);
  }

  override delete(name: string): void {
    this.fill();
    super.delete(name);
  }

  override getSetCookie(): string[] {
    this.fill();
    return super.getSetCookie();
  }

  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.fill();
    super.forEach(callback, thisArg);
  }

  entries(): IterableIterator<[string, string]> {
    this.fill();
    return iteration.entries.call(this);
  }

  keys(): IterableIterator<string> {
    this.fill();
    return iteration.keys.call(this);
  }

  values(): IterableIterator<string> {
    this.fill();
    return iteration.values.call(this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    this.fill();
    return iteration[Symbol.iterator].call(this);
  }
}

/** a request URL's parts as http.request takes them, parsed once per URL (a run sends to two or three) */
const requestTargets = new Map<string, { url: URL; options: http.RequestOptions }>();

function requestTarget(href: string): { url: URL; options: http.RequestOptions } {
  let target = requestTargets.get(href);
  if (!target) {
    const url = new URL(href);
    target = { url, options: urlToHttpOptions(url) };
    if (requestTargets.size >= 64) requestTargets.clear();
    requestTargets.set(href, target);
  }
  return target;
}

async function bodyBytes(body: BodyInit | null | undefined): Promise<Buffer | string | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  // anything else (streams, FormData, Blob) goes through the platform's own encoding
  return Buffer.from(await new Response(body).arrayBuffer());
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * The part of the Response interface the SDK uses for non-streaming calls (status, ok, url, headers, json, text,
 * arrayBuffer, body), over a body already in memory: constructing a platform Response and reading it back through
 * its stream costs more CPU than the whole exchange on node:http.
 */
function bufferedResponse(url: string, status: number, statusText: string, headers: Headers, bytes: Buffer): Response {
  let used = false;
  const view = (): Uint8Array<ArrayBuffer> => new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  const take = (): Buffer => {
    if (used) throw new TypeError('Body has already been used');
    used = true;
    return bytes;
  };
  const nullBody = status === 204 || status === 205 || status === 304;
  const response = {
    url,
    status,
    statusText,
    headers,
    ok: status >= 200 && status < 300,
    redirected: false,
    type: 'basic',
    get bodyUsed() {
      return used;
    },
    // a stream only when someone asks for one (the SDK cancels it before a retry)
    get body() {
      if (nullBody || used) return null;
      return new Response(view()).body;
    },
    async text() {
      return take().toString('utf8');
    },
    async json() {
      return JSON.parse(take().toString('utf8')) as unknown;
    },
    async arrayBuffer() {
      const b = take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
    async bytes() {
      return new Uint8Array(take());
    },
    async blob() {
      take();
      return new Blob([view()]);
    },
    async formData() {
      take();
      return new Response(view()).formData();
    },
    clone() {
      return bufferedResponse(url, status, statusText, new Headers(headers), bytes);
    },
  };
  // cast: the object has every Response member the OpenAI SDK reads (status, headers, text, json, body)
  return response as unknown as Response;
}

/** the default cap on one response body: a server (or whatever answers at its address) cannot fill our memory */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

function responseTooLarge(url: URL, limit: number, declared?: number): SclabError {
  const size = declared !== undefined ? `${declared} bytes` : `over ${limit} bytes`;
  // not retryable: the same request would bring the same answer
  return new SclabError('malformed_response', `the answer from ${url.protocol}//${url.host} is ${size}; response bodies are capped at ${limit} bytes (${(limit / 1024 / 1024).toFixed(0)} MiB; setting: max response size)`);
}

export function createHttpFetch(opts: { maxResponseBytes?: number } = {}): { fetch: typeof fetch; close(): void } {
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity }),
  };
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const { url, options } = requestTarget(request ? request.url : String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    const signal = init.signal ?? request?.signal ?? undefined;
    const body = await bodyBytes(init.body ?? (request ? await request.arrayBuffer() : undefined));
    const headers = headerRecord(init.headers ?? request?.headers);
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    if (signal?.aborted) throw abortError(signal);
    return new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request({ ...options, method: init.method ?? request?.method ?? 'GET', headers, agent: agents[url.protocol as 'http:' | 'https:'] }, (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxResponseBytes) {
          fail(responseTooLarge(url, maxResponseBytes, declared), true);
          return;
        }
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > maxResponseBytes) fail(responseTooLarge(url, maxResponseBytes), true);
          else chunks.push(c);
        });
        res.on('error', (err) => fail(err));
        res.on('aborted', () => fail(Object.assign(new Error('connection closed while reading the answer'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          const responseHeaders = new AnswerHeaders(res.rawHeaders, () => res.headersDistinct);
          resolve(bufferedResponse(url.href, res.statusCode ?? 0, res.statusMessage ?? '', responseHeaders, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
        });
      });
      let settled = false;
      const fail = (err: Error, asIs = false) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        // the shape fetch gives: TypeError('fetch failed') with the socket error as its cause
        reject(signal?.aborted ? abortError(signal) : asIs ? err : new TypeError('fetch failed', { cause: err }));
      };
      const onAbort = () => fail(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(body);
    });
  };
  return {
    fetch: fetchImpl as typeof fetch,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
