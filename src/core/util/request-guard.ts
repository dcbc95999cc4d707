// One defensive gate for every HTTP server of the project (`sclab view`, `sclab serve`): a request target is parsed
// by hand and anything odd is a 400 (never an exception: `new URL('//', base)` throws and took `sclab view` down),
// a foreign Host is refused (DNS rebinding), a browser page on another origin is refused (any web page can POST to
// 127.0.0.1), and POST bodies must declare JSON (a text/plain POST needs no CORS preflight). 
/** node:http's IncomingHttpHeaders, by shape (this file imports no Node module) */
type IncomingHttpHeaders = Record<string, string | string[] | undefined>;

export interface RequestTarget {
  /** the path as sent, without the query (not percent-decoded: routes match it exactly) */
  path: string;
  /** the query without its "?" ('' when none) */
  query: string;
}

const MAX_TARGET = 8192;

/** Parses an origin-form request target ("/path?query"); null for anything else or anything odd. */
export function parseRequestTarget(raw: unknown): RequestTarget | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_TARGET) return null;
  if (raw[0] !== '/' || raw[1] === '/') return null; // "//host/…" would read as a network path
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x5c /* \ */ || c === 0x23 /* # */) return null;
  }
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return null; // a broken percent-escape
  for (const seg of path.split('/')) {
    if (seg === '..' || seg === '.' || /^(%2e|\.){1,2}$/i.test(seg)) return null;
  }
  return { path, query };
}

export interface RequestGuardOptions {
  /** the port the server listens on (the Host header must name it) */
  port: number;
  /**
   * 'loopback': Host must be 127.0.0.1, localhost or [::1] with the port; 'any': the server is bound to another
   * address on purpose (and guarded by a token)
   */
  hosts: 'loopback' | 'any';
  /** 'none': no browser page may call the server; 'same-origin': only the page the server itself served */
  browsers: 'none' | 'same-origin';
}

export type GuardVerdict =
  | { ok: true; target: RequestTarget }
  | { ok: false; status: 400 | 403 | 415; message: string };

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Decides whether a request may reach the routes at all; what it returns for a refusal is safe to send as is. */
export function guardRequest(req: { method?: string; url?: string; headers: IncomingHttpHeaders }, opts: RequestGuardOptions): GuardVerdict {
  const target = parseRequestTarget(req.url);
  if (!target) return { ok: false, status: 400, message: 'malformed request target' };
  const host = (header(req.headers, 'host') ?? '').toLowerCase();
  if (opts.hosts === 'loopback' && !LOOPBACK_NAMES.some((n) => host === `${n}:${opts.port}`)) {
    return { ok: false, status: 403, message: 'forbidden host: this server answers only to 127.0.0.1, localhost or [::1] with its port' };
  }
  const origin = header(req.headers, 'origin');
  const site = header(req.headers, 'sec-fetch-site');
  const sameOrigin = opts.browsers === 'same-origin' && (origin === undefined || origin === `http://${host}`) && (site === undefined || site === 'same-origin' || site === 'none');
  if ((origin !== undefined || (site !== undefined && site !== 'none')) && !sameOrigin) {
    return { ok: false, status: 403, message: 'forbidden origin: web pages may not call this server' };
  }
  if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(header(req.headers, 'content-type') ?? '')) {
    return { ok: false, status: 415, message: 'content-type must be application/json' };
  }
  return { ok: true, target };
}
