// A fetch for the SDK built on node:http(s) with a keep-alive agent. The SDK's requests are small JSON exchanges
// that we never stream, and Node 20's built-in fetch costs several times more CPU per request than node:http: at
// 50 requests in flight that overhead, not the server, sets the pace of a run (see bench:runner).
import http from 'node:http';
import https from 'node:https';
import { SclabError } from '../../model/errors';

function headerRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => {
    out[k] = v;
  });
  return out;
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
    const url = new URL(request ? request.url : String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    const signal = init.signal ?? request?.signal ?? undefined;
    const body = await bodyBytes(init.body ?? (request ? await request.arrayBuffer() : undefined));
    const headers = headerRecord(init.headers ?? request?.headers);
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    if (signal?.aborted) throw abortError(signal);
    return new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, { method: init.method ?? request?.method ?? 'GET', headers, agent: agents[url.protocol as 'http:' | 'https:'] }, (res) => {
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
          const responseHeaders = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          resolve(bufferedResponse(url.href, res.statusCode ?? 0, res.statusMessage ?? '', responseHeaders, Buffer.concat(chunks)));
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
