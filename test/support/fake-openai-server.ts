// A local OpenAI-compatible HTTP server for tests and benchmarks: deterministic answers, deterministic
// pseudo-logprobs, and faults injected per request. Cheap per request and keep-alive, so a benchmark can run
// thousands of requests at high concurrency against it.
/* eslint-disable @typescript-eslint/no-explicit-any -- request bodies are arbitrary client JSON; the shared contract types them as any */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeServerOptions {
  /** added to every response */
  latencyMs?: number;
  /** decide per request (index counts every request the server received, from 0) */
  faults?: (req: { index: number; path: string; body: any }) => Fault | undefined;
  /** when set, chat/completions for another model answer 404 (like vLLM); when unset every model is accepted */
  model?: string;
  /** 401 when the bearer token differs */
  requireKey?: string;
  supportsEcho?: boolean;
  supportsLogprobs?: boolean;
  supportsContinue?: boolean;
  /** override the generated text */
  reply?: (body: any) => string;
  // --- additions beyond the shared contract ---
  /** false: GET /v1/models answers 404 (servers without a model list) */
  supportsModels?: boolean;
  /**
   * true (default): a request using an unsupported feature is refused with 400, like OpenAI does with unknown
   * params. false: the feature is silently ignored (logprobs: null, echo dropped, continue flag ignored).
   */
  rejectUnsupported?: boolean;
  /** a badly behaved server: error bodies quote the bearer token it received (for secret-leak tests) */
  leakKeyInErrors?: boolean;
  /** listen on this port (default 0: any free port) */
  port?: number;
  /** limits of its own, like a hosted API or a shared vLLM behind a gateway */
  limits?: ServerLimits;
  /** POST /tokenize (vLLM at the server's root): the answer to each body; unset → 404 */
  tokenize?: (body: any) => [number, unknown];
}

export interface ServerLimits {
  /** 429 for a request that arrives while this many are being answered */
  maxInFlight?: number;
  /** 429 for a request past this many in the current window (a fixed window of `windowMs`, default one minute) */
  requestsPerWindow?: number;
  windowMs?: number;
  /** the retry-after the in-flight 429 carries, in ms (default 100); a window 429 asks for the window's rest */
  retryAfterMs?: number;
  /** send x-ratelimit-remaining-requests / x-ratelimit-reset-requests of the window on every answer */
  headers?: boolean;
}

export interface ServerLimitStats {
  /** the most requests it was answering at once */
  peakInFlight: number;
  /** requests it answered 429 because of its limits */
  refused: number;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; retryAfterMs?: string; body?: string }
  | { kind: 'reset' }
  | { kind: 'malformed' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  path: string;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

export interface FakeServer {
  /** e.g. http://127.0.0.1:1234/v1 */
  url: string;
  requests: RecordedRequest[];
  limitStats: ServerLimitStats;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Text: a simple tokenizer and deterministic pseudo-logprobs (identical text ⇒ identical numbers).

const TOKEN_RE = /\s*[\p{L}\p{N}]+|\s*[^\s\p{L}\p{N}]|\s+/gu;

/** Space-prefixed words, space-prefixed single punctuation marks, trailing whitespace. Joins back to `text`. */
export function fakeTokenize(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

const FNV_START = 0x811c9dc5;

function fnv1a(text: string, seed = FNV_START): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function hashToLogprob(h: number): number {
  return -Math.round((0.05 + (5 * h) / 2 ** 32) * 1e4) / 1e4;
}

/** The log-probability the fake server gives `token` after `prefix`: a hash of the text up to the token's end. */
export function fakeTokenLogprob(prefix: string, token: string): number {
  return hashToLogprob(fnv1a(prefix + token));
}

/** FNV-1a streams, so a running hash of the text so far makes every token's value O(token length). */
const logprobAfter = (state: number, token: string): number => hashToLogprob(fnv1a(token, state));

/** Alternatives for a token: other option letters for a letter, a few common tokens otherwise. */
function alternativesFor(token: string, count: number): string[] {
  const lead = /^\s*/.exec(token)?.[0] ?? '';
  const core = token.slice(lead.length);
  const pool = /^[a-e]$/i.test(core)
    ? ['a', 'b', 'c', 'd', 'e'].map((l) => lead + (core === core.toUpperCase() ? l.toUpperCase() : l))
    : [' the', ' a', ',', '.', ' and', ' of', ' (', ' is'];
  return pool.filter((t) => t !== token).slice(0, Math.max(0, count));
}

/** the chosen token first (it is the argmax), then lower-scored alternatives; `state` hashes the text before it */
function topAlternatives(state: number, token: string, lp: number, k: number): Array<{ token: string; logprob: number }> {
  const alts = alternativesFor(token, k - 1).map((t, i) => ({
    token: t,
    logprob: Math.round((lp - 0.5 - i - fnv1a(t, state) / 2 ** 32) * 1e4) / 1e4,
  }));
  return [{ token, logprob: lp }, ...alts].slice(0, k);
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic answers.

const SENTENCES = [
  ' Everyone deserves to be treated with fairness and respect.',
  ' The story does not give enough information to decide.',
  ' People should be judged by their actions, not their group.',
  ' It is best to avoid assumptions about anyone involved.',
];

/** Options like "(a) yes (b) no (c) unknown" found in a text, in order of first appearance. */
function findOptions(text: string): Array<{ label: string; text: string }> {
  const seen = new Map<string, string>();
  for (const m of text.matchAll(/\(([a-zA-Z])\)\s*([^()\n]*)/g)) {
    const label = m[1] as string;
    if (!seen.has(label)) seen.set(label, (m[2] ?? '').trim().replace(/[\s.,;:]+$/, ''));
  }
  return [...seen].map(([label, t]) => ({ label, text: t }));
}

/** The text the fake model writes for a context: an option picked by a hash, or a sentence. */
export function fakeAnswer(context: string, questionText: string = context): string {
  const h = fnv1a(context);
  const options = findOptions(questionText);
  if (options.length > 0) {
    const opt = options[h % options.length] as { label: string; text: string };
    return opt.text ? ` (${opt.label}) ${opt.text}.` : ` (${opt.label}).`;
  }
  return SENTENCES[h % SENTENCES.length] as string;
}

/** Cut at the first stop string and at max tokens; reports why generation ended. */
function limitText(text: string, maxTokens: number | undefined, stop: string[]): { text: string; finish: string } {
  let out = text;
  let finish = 'stop';
  let cut = -1;
  for (const s of stop) {
    const at = s ? out.indexOf(s) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) out = out.slice(0, cut);
  if (maxTokens !== undefined) {
    const toks = fakeTokenize(out);
    if (toks.length > maxTokens) {
      out = toks.slice(0, maxTokens).join('');
      finish = 'length';
    }
  }
  return { text: out, finish };
}

function stopList(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  return Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [];
}

function maxTokensOf(body: any): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' ? v : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoint handlers: each returns [status, json body].

type Reply = [number, unknown];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'invalid_request_error',
  ) {
    super(message);
  }
}

function errorBody(message: string, type = 'invalid_request_error', code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

function checkModel(opts: FakeServerOptions, body: any): string {
  const model = typeof body.model === 'string' ? body.model : '';
  if (!model) throw new HttpError(400, 'you must provide a model parameter');
  if (opts.model !== undefined && model !== opts.model) {
    throw new HttpError(404, `The model \`${model}\` does not exist.`, 'model_not_found');
  }
  return model;
}

function unsupported(opts: FakeServerOptions, param: string): boolean {
  if (opts.rejectUnsupported === false) return false;
  throw new HttpError(400, `Unrecognized request argument supplied: ${param}`);
}

function chatCompletion(opts: FakeServerOptions, body: any, index: number): Reply {
  const model = checkModel(opts, body);
  if (body.stream) throw new HttpError(400, 'stream is not supported by the fake server');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new HttpError(400, "'messages' must be a non-empty array");
  for (const m of messages) {
    if (!m || typeof m.content !== 'string' || !['system', 'user', 'assistant'].includes(m.role)) {
      throw new HttpError(400, 'each message needs a role (system, user, assistant) and string content');
    }
  }
  let continueFinal = body.continue_final_message === true;
  if (body.continue_final_message !== undefined && opts.supportsContinue === false) {
    unsupported(opts, 'continue_final_message');
    continueFinal = false;
  }
  if (continueFinal && body.add_generation_prompt !== false) {
    throw new HttpError(400, 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  }
  const last = messages[messages.length - 1];
  if (continueFinal && last.role !== 'assistant') {
    throw new HttpError(400, 'continue_final_message requires the last message to be an assistant message');
  }
  let wantLogprobs = body.logprobs === true;
  if ((body.logprobs !== undefined || body.top_logprobs !== undefined) && opts.supportsLogprobs === false) {
    unsupported(opts, 'logprobs');
    wantLogprobs = false;
  }
  const context = messages.map((m: any) => `${m.role}: ${m.content}`).join('\n') + (continueFinal ? '' : '\nassistant:');
  const userText = [...messages].reverse().find((m: any) => m.role === 'user')?.content ?? '';
  const generated = opts.reply ? opts.reply(body) : fakeAnswer(context, userText);
  const { text, finish } = limitText(generated, maxTokensOf(body), stopList(body.stop));
  const k = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
  let logprobs: unknown = null;
  if (wantLogprobs) {
    const content = [];
    let state = fnv1a(context);
    for (const token of fakeTokenize(text)) {
      const lp = logprobAfter(state, token);
      content.push({ token, logprob: lp, bytes: [...Buffer.from(token)], top_logprobs: k > 0 ? topAlternatives(state, token, lp, k) : [] });
      state = fnv1a(token, state);
    }
    logprobs = { content, refusal: null };
  }
  const promptTokens = fakeTokenize(messages.map((m: any) => m.content).join('\n')).length;
  const completionTokens = fakeTokenize(text).length;
  return [
    200,
    {
      id: `chatcmpl-fake-${index}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      system_fingerprint: 'fake',
      fake_server: { note: 'extra fields must be tolerated' },
    },
  ];
}

/**
 * Completions logprobs for `text` written after `context`: offsets count from the context's start (as OpenAI
 * reports them). With echo the context is empty and the first token has no logprob (as OpenAI and vLLM report it).
 */
function completionLogprobs(context: string, text: string, n: number, firstIsNull: boolean): unknown {
  const tokens = fakeTokenize(text);
  const token_logprobs: Array<number | null> = [];
  const top_logprobs: Array<Record<string, number> | null> = [];
  const text_offset: number[] = [];
  let offset = context.length;
  let state = fnv1a(context);
  for (const [i, token] of tokens.entries()) {
    text_offset.push(offset);
    if (firstIsNull && i === 0) {
      token_logprobs.push(null);
      top_logprobs.push(null);
    } else {
      const lp = logprobAfter(state, token);
      token_logprobs.push(lp);
      top_logprobs.push(Object.fromEntries(topAlternatives(state, token, lp, Math.max(1, n)).map((a) => [a.token, a.logprob])));
    }
    state = fnv1a(token, state);
    offset += token.length;
  }
  return { tokens, token_logprobs, top_logprobs, text_offset };
}

function completion(opts: FakeServerOptions, body: any, index: number): Reply {
  const model = checkModel(opts, body);
  const prompt = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
  if (typeof prompt !== 'string') throw new HttpError(400, "'prompt' must be a string");
  let echo = body.echo === true;
  if (echo && opts.supportsEcho === false) {
    unsupported(opts, 'echo');
    echo = false;
  }
  let n = typeof body.logprobs === 'number' ? body.logprobs : null;
  if (n !== null && (n < 0 || n > 5)) throw new HttpError(400, 'logprobs must be between 0 and 5');
  if (n !== null && opts.supportsLogprobs === false) {
    unsupported(opts, 'logprobs');
    n = null;
  }
  const generated = opts.reply ? opts.reply(body) : fakeAnswer(prompt);
  const { text: gen, finish } = limitText(generated, maxTokensOf(body) ?? 16, stopList(body.stop));
  const text = echo ? prompt + gen : gen;
  const logprobs = n === null ? null : echo ? completionLogprobs('', text, n, true) : completionLogprobs(prompt, gen, n, false);
  const promptTokens = fakeTokenize(prompt).length;
  const completionTokens = fakeTokenize(gen).length;
  return [
    200,
    {
      id: `cmpl-fake-${index}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, text, logprobs, finish_reason: finish }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  ];
}

function route(opts: FakeServerOptions, method: string, path: string, body: any, index: number): Reply {
  if (method === 'GET' && path === '/v1/models') {
    if (opts.supportsModels === false) return [404, errorBody('Not Found', 'not_found')];
    const id = opts.model ?? 'fake-model';
    return [200, { object: 'list', data: [{ id, object: 'model', created: 0, owned_by: 'fake' }] }];
  }
  if (method === 'POST' && path === '/v1/chat/completions') return chatCompletion(opts, body, index);
  if (method === 'POST' && path === '/v1/completions') return completion(opts, body, index);
  if (method === 'POST' && path === '/tokenize' && opts.tokenize) return opts.tokenize(body) as Reply;
  return [404, errorBody(`no route for ${method} ${path}`, 'not_found')];
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP plumbing.

function bearer(headers: http.IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export async function startFakeOpenAIServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let counter = 0;
  const limitStats: ServerLimitStats = { peakInFlight: 0, refused: 0 };
  let inFlight = 0;
  let windowStart = Date.now();
  let windowCount = 0;
  /** the limits' verdict on a request that just arrived: extra headers, and a 429 when it is over a limit */
  const admit = (): { refuse?: { retryAfterMs: number; why: string }; headers: Record<string, string> } => {
    const limits = opts.limits;
    if (!limits) return { headers: {} };
    const windowMs = limits.windowMs ?? 60_000;
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now - ((now - windowStart) % windowMs);
      windowCount = 0;
    }
    const resetMs = windowStart + windowMs - now;
    const headers: Record<string, string> = {};
    const answer = (refuse?: { retryAfterMs: number; why: string }) => {
      if (limits.headers && limits.requestsPerWindow !== undefined) {
        headers['x-ratelimit-limit-requests'] = String(limits.requestsPerWindow);
        headers['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.requestsPerWindow - windowCount));
        headers['x-ratelimit-reset-requests'] = `${resetMs}ms`;
      }
      if (refuse) limitStats.refused++;
      return { refuse, headers };
    };
    if (limits.maxInFlight !== undefined && inFlight > limits.maxInFlight) {
      return answer({ retryAfterMs: limits.retryAfterMs ?? 100, why: `more than ${limits.maxInFlight} requests in flight` });
    }
    if (limits.requestsPerWindow !== undefined) {
      if (windowCount >= limits.requestsPerWindow) return answer({ retryAfterMs: resetMs, why: `more than ${limits.requestsPerWindow} requests in ${windowMs} ms` });
      windowCount++;
    }
    return answer();
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> => {
    const index = counter++;
    const path = (req.url ?? '/').split('?')[0] as string;
    let body: any = undefined;
    let parseError = false;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        parseError = true;
      }
    }
    requests.push({ path, body, headers: { ...req.headers }, at: Date.now() });
    inFlight++;
    limitStats.peakInFlight = Math.max(limitStats.peakInFlight, inFlight);
    res.once('close', () => inFlight--);
    const verdict = admit();
    if (verdict.refuse) {
      const { retryAfterMs, why } = verdict.refuse;
      sendJson(res, 429, errorBody(`rate limit: ${why}`, 'rate_limit_exceeded'), { ...verdict.headers, 'retry-after-ms': String(retryAfterMs), 'retry-after': String(Math.ceil(retryAfterMs / 1000)) });
      return;
    }
    const limitHeaders = verdict.headers;
    const fault = opts.faults?.({ index, path, body });
    if (fault?.kind === 'hang') return; // the socket stays open until the client gives up or close() runs
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    await sleep((opts.latencyMs ?? 0) + (fault?.kind === 'delay' ? fault.ms : 0));
    if (res.destroyed) return;
    const token = bearer(req.headers);
    const leak = opts.leakKeyInErrors ? ` (request carried ${token ?? 'no token'})` : '';
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"broken","choices":[{"message":{"role":"assis');
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = fault.retryAfterMs;
      sendJson(res, fault.status, fault.body ?? errorBody(`injected fault: HTTP ${fault.status}${leak}`, 'server_error'), headers);
      return;
    }
    if (opts.requireKey !== undefined && token !== opts.requireKey) {
      sendJson(res, 401, errorBody(`Incorrect API key provided${leak}.`, 'invalid_request_error', 'invalid_api_key'));
      return;
    }
    if (parseError || (req.method === 'POST' && (body === null || typeof body !== 'object'))) {
      sendJson(res, 400, errorBody('the request body is not a JSON object'));
      return;
    }
    try {
      const [status, json] = route(opts, req.method ?? 'GET', path, body ?? {}, index);
      sendJson(res, status, json, limitHeaders);
    } catch (e) {
      if (e instanceof HttpError) sendJson(res, e.status, errorBody(e.message + leak, 'invalid_request_error', e.code));
      else sendJson(res, 500, errorBody(`fake server bug: ${String(e)}`, 'server_error'));
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    limitStats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
