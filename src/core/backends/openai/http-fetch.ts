// A fetch for the SDK and a run's requests, over HTTP/1.1 on kept-alive sockets (http1.ts). The requests are small
// JSON exchanges that we never stream; Node 20's built-in fetch costs several times more CPU per request than
// node:http, and node:http's request and response objects more than the rest of a run's work per request: at a
// fast server that overhead, not the server, sets the pace of a run (see bench:runner, bench:scale).
import { SclabError } from '../../model/errors';
import { AnswerTooLarge, Http1Pool, type Origin } from './http1';

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
 * header costs more than the rest of reading the answer. get/has follow fetch's rules (names in any case, the
 * values of a repeated header joined by ", ").
 */
export class AnswerHeaders extends Headers {
  private raw: string[] | undefined;
  private distinct: Map<string, string[]> | undefined;

  /** `raw`: name, value, name, value… as received */
  constructor(raw: string[]) {
    super();
    this.raw = raw;
  }

  /** fills the Headers object itself; from then on every method is the platform's */
  private fill(): void {
    const raw = this.raw;
    if (!raw) return;
    this.raw = undefined;
    this.distinct = undefined;
    for (let i = 0; i < raw.length; i += 2) super.append(raw[i]!, raw[i + 1]!);
  }

  private lookup(name: string): string[] | undefined {
    if (!this.distinct) {
      const raw = this.raw!;
      this.distinct = new Map();
      for (let i = 0; i < raw.length; i += 2) {
        const key = raw[i]!.toLowerCase();
        const values = this.distinct.get(key);
        if (values) values.push(raw[i + 1]!);
        else this.distinct.set(key, [raw[i + 1]!]);
      }
    }
    return this.distinct.get(name.toLowerCase());
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

interface RequestTarget {
  url: URL;
  origin: Origin;
  /** the request line's target: path and query */
  path: string;
}

/** a request URL's parts, parsed once per URL (a run sends to two or three) */
const requestTargets = new Map<string, RequestTarget>();

function requestTarget(href: string): RequestTarget {
  let target = requestTargets.get(href);
  if (!target) {
    const url = new URL(href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    target = { url, origin: { protocol: url.protocol, host, port, hostHeader: url.host }, path: `${url.pathname || '/'}${url.search}` };
    if (requestTargets.size >= 64) requestTargets.clear();
    requestTargets.set(href, target);
  }
  return target;
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The request line and header lines, each ended by CRLF. Names must be HTTP tokens and values may not hold control
 * characters (a CR or LF would let a value add headers): refused as node:http refuses them.
 */
function requestHead(method: string, path: string, headers: Record<string, string>): string {
  if (!HTTP_TOKEN.test(method)) throw new TypeError(`the method must be a valid HTTP token ["${method}"]`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (!HTTP_TOKEN.test(name)) throw new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
    if (BAD_HEADER_VALUE.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
    // the pool writes Host (unless given here) and Connection itself: it owns the connections
    if (name === 'connection' || name === 'host') continue;
    head += `${name}: ${value}\r\n`;
  }
  return head;
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
 * its stream costs more CPU than the whole exchange. A class, so that an answer costs one object, not a dozen
 * closures.
 */
class BufferedResponse {
  readonly redirected = false;
  readonly type = 'basic';
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    private readonly payload: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  /** a stream only when someone asks for one (the SDK cancels it before a retry) */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.status === 204 || this.status === 205 || this.status === 304 || this.used) return null;
    return new Response(this.view()).body;
  }

  async text(): Promise<string> {
    return this.take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.take().toString('utf8')) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.take());
  }

  async blob(): Promise<Blob> {
    this.take();
    return new Blob([this.view()]);
  }

  async formData(): Promise<FormData> {
    this.take();
    return new Response(this.view()).formData();
  }

  clone(): Response {
    return bufferedResponse(this.url, this.status, this.statusText, new Headers(this.headers), this.payload);
  }

  private view(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.payload.buffer as ArrayBuffer, this.payload.byteOffset, this.payload.byteLength);
  }

  private take(): Buffer {
    if (this.used) throw new TypeError('Body has already been used');
    this.used = true;
    return this.payload;
  }
}

function bufferedResponse(url: string, status: number, statusText: string, headers: Headers, bytes: Buffer): Response {
  // cast: the object has every Response member the OpenAI SDK reads (status, headers, text, json, body)
  return new BufferedResponse(url, status, statusText, headers, bytes) as unknown as Response;
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
  const pool = new Http1Pool();
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const { url, origin, path } = requestTarget(request ? request.url : String(input));
    const signal = init.signal ?? request?.signal ?? undefined;
    const body = await bodyBytes(init.body ?? (request ? await request.arrayBuffer() : undefined));
    const headers = headerRecord(init.headers ?? request?.headers);
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const method = init.method ?? request?.method ?? 'GET';
    const head = requestHead(method, path, headers);
    const target = headers.host === undefined ? origin : { ...origin, hostHeader: headers.host };
    if (signal?.aborted) throw abortError(signal);
    try {
      const answer = await pool.request(target, head, body, {
        signal,
        maxBodyBytes: maxResponseBytes,
        abortError: () => abortError(signal!),
        noBody: method.toUpperCase() === 'HEAD',
      });
      return bufferedResponse(url.href, answer.status, answer.statusText, new AnswerHeaders(answer.rawHeaders), answer.body);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      if (err instanceof AnswerTooLarge) throw responseTooLarge(url, maxResponseBytes, err.declared);
      // the shape fetch gives: TypeError('fetch failed') with the socket error as its cause
      throw new TypeError('fetch failed', { cause: err });
    }
  };
  return {
    fetch: fetchImpl as typeof fetch,
    close() {
      pool.close();
    },
  };
}
