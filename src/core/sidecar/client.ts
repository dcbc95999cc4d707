// A client of the sidecar protocol: validates every answer and turns every failure into a SclabError.
import { linkSignal } from '../util/signal';
import { z } from 'zod';
import { createHttpFetch } from '../backends/openai/http-fetch';

/** the largest sidecar answer read (see createSidecarClient) */
export const SIDECAR_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
import { cancelledError, SclabError } from '../model/errors';
import { decodeVector } from './encoding';
import {
  ErrorBodySchema,
  GenerateResponseSchema,
  type GenerateWireRequest,
  type GenerateWireResponse,
  HiddenStatesResponseSchema,
  InfoSchema,
  LoglikelihoodResponseSchema,
  ProbeScoresResponseSchema,
  toEngineModule,
  type HiddenStatesWireRequest,
  type LoglikelihoodWireRequest,
  type LoglikelihoodWireResponse,
  type ProbeScoresWireRequest,
  type ProbeScoresWireResponse,
  type SidecarInfo,
  type SidecarInput,
  TokenizeResponseSchema,
  type TokenizeWireResponse,
} from './protocol';
import type { HiddenStatesResult } from '../backends/backend';

export interface SidecarClientOptions {
  /** the server's root, e.g. http://127.0.0.1:8765 (a trailing /v1 is accepted too) */
  url: string;
  token?: string;
  /** deadline of one request, body included */
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface RawAnswer {
  status: number;
  body: unknown;
  /** bytes of the answer's body as received */
  bytes: number;
}

export interface DecodedHiddenStates extends HiddenStatesResult {
  model: string;
  /** bytes of the answer's body */
  bytes: number;
}

export interface SidecarClient {
  readonly url: string;
  info(signal?: AbortSignal): Promise<SidecarInfo>;
  hiddenStates(req: HiddenStatesWireRequest, signal?: AbortSignal): Promise<DecodedHiddenStates>;
  probeScores(req: ProbeScoresWireRequest, signal?: AbortSignal): Promise<ProbeScoresWireResponse>;
  loglikelihood(req: LoglikelihoodWireRequest, signal?: AbortSignal): Promise<LoglikelihoodWireResponse>;
  /** POST /v1/generate (capability generate) */
  generate(req: GenerateWireRequest, signal?: AbortSignal): Promise<GenerateWireResponse>;
  /** the rendered text and ids the sidecar runs the model on */
  tokenize(req: SidecarInput, signal?: AbortSignal): Promise<TokenizeWireResponse>;
  /** any request, answered as is (conformance checks of error answers) */
  raw(method: 'GET' | 'POST', path: string, body?: unknown, init?: { headers?: Record<string, string>; rawBody?: string }): Promise<RawAnswer>;
  close(): void;
}

/** One request to the sidecar: a JSON body, or (conformance checks) a raw body and extra headers. */
interface SidecarRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  init?: { headers?: Record<string, string>; rawBody?: string };
}

function statusError(status: number, message: string): SclabError {
  if (status === 401 || status === 403) return new SclabError('auth', message, { status });
  if (status === 501) return new SclabError('unsupported', message, { status });
  if (status === 499) return new SclabError('cancelled', message, { status });
  if (status === 408 || status === 429 || status >= 500) return new SclabError(status === 429 ? 'rate_limit' : 'server', message, { status, retryable: true });
  return new SclabError('bad_request', message, { status });
}

export function createSidecarClient(opts: SidecarClientOptions): SidecarClient {
  let base: URL;
  try {
    base = new URL(opts.url.trim());
  } catch {
    throw new SclabError('config', `sidecar URL is not a valid URL: "${opts.url}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new SclabError('config', `sidecar URL must start with http:// or https:// (got ${base.protocol})`);
  if (base.username || base.password) throw new SclabError('config', 'sidecar URL must not carry credentials: pass the token separately');
  const root = base.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
  // hidden states of many layers are big by design: the cap matches the sidecar's own answer budget (the Python
  // reference's --max-response-mb default, 256 MiB), still under V8's string limit, instead of the 32 MiB for chat servers
  const own = opts.fetch ? undefined : createHttpFetch({ maxResponseBytes: SIDECAR_MAX_RESPONSE_BYTES });
  const doFetch = opts.fetch ?? own!.fetch;
  const hide = (s: string): string => (opts.token ? s.split(opts.token).join('***') : s);

  async function raw({ method, path, body, init = {} }: SidecarRequest, signal?: AbortSignal): Promise<RawAnswer> {
    if (signal?.aborted) throw cancelledError();
    const what = `sidecar ${method} ${path}`;
    const ctl = linkSignal(signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, opts.timeoutMs);
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...init.headers };
      const text = init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
      if (text !== undefined) headers['content-type'] = 'application/json';
      const res = await doFetch(`${root}${path}`, { method, headers, body: text, signal: ctl.signal });
      const answer = await res.text();
      let parsed: unknown = answer;
      try {
        parsed = JSON.parse(answer);
      } catch {
        // left as text: callers report it
      }
      return { status: res.status, body: parsed, bytes: Buffer.byteLength(answer) };
    } catch (e) {
      if (signal?.aborted) throw new SclabError('cancelled', `${what}: cancelled`);
      if (timedOut) throw new SclabError('timeout', `${what}: no complete answer within ${opts.timeoutMs} ms`, { retryable: true });
      if (e instanceof SclabError && e.code === 'malformed_response') throw new SclabError(e.code, hide(`${what}: ${e.message}`)); // e.g. over the size cap
      throw new SclabError('network', hide(`${what}: cannot reach ${root}: ${(e as Error).message}`), { retryable: true, cause: e });
    } finally {
      clearTimeout(timer);
      ctl.unlink();
    }
  }

  async function call<S extends z.ZodType>(schema: S, { method, path, body }: SidecarRequest, signal?: AbortSignal): Promise<z.infer<S> & { bytes: number }> {
    const what = `sidecar ${method} ${path}`;
    const a = await raw({ method, path, body }, signal);
    if (a.status !== 200) {
      const err = ErrorBodySchema.safeParse(a.body);
      const msg = err.success ? `${err.data.error.code}: ${err.data.error.message}` : `HTTP ${a.status}`;
      throw statusError(a.status, hide(`${what} (${root}): ${msg}`));
    }
    const r = schema.safeParse(a.body);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new SclabError('malformed_response', `${what} (${root}): an answer we cannot read (${issue.path.join('.') || 'body'}: ${issue.message})`, { retryable: true });
    }
    return Object.assign(r.data as object, { bytes: a.bytes }) as z.infer<S> & { bytes: number };
  }

  return {
    url: root,
    info: async (signal) => {
      const { bytes: _b, ...info } = await call(InfoSchema, { method: 'GET', path: '/v1/info' }, signal);
      return info as SidecarInfo;
    },
    async hiddenStates(req, signal) {
      const r = await call(HiddenStatesResponseSchema, { method: 'POST', path: '/v1/hidden_states', body: req }, signal);
      const width = r.position === 'all' ? r.n_tokens * r.dim : r.dim;
      if (r.layers.length !== r.layer_ids.length) throw new SclabError('malformed_response', `sidecar hidden_states: ${r.layers.length} vectors for ${r.layer_ids.length} layer ids`);
      const vectors = r.layers.map((v, i) => {
        const f = decodeVector(v, `layers[${i}]`);
        if (f.length !== width) throw new SclabError('malformed_response', `sidecar hidden_states: layers[${i}] has ${f.length} numbers, expected ${width}`);
        return f;
      });
      return { model: r.model, module: toEngineModule(r.module), position: r.position, convention: r.convention, layers: r.layer_ids, vectors, dim: r.dim, nTokens: r.n_tokens, ...(r.special_positions ? { specialPositions: r.special_positions } : {}), bytes: r.bytes };
    },
    tokenize: async (req, signal) => {
      const { bytes: _b, ...r } = await call(TokenizeResponseSchema, { method: 'POST', path: '/v1/tokenize', body: req }, signal);
      return r;
    },
    probeScores: async (req, signal) => {
      const { bytes: _b, ...r } = await call(ProbeScoresResponseSchema, { method: 'POST', path: '/v1/probe_scores', body: req }, signal);
      return r as ProbeScoresWireResponse;
    },
    loglikelihood: async (req, signal) => {
      const { bytes: _b, ...r } = await call(LoglikelihoodResponseSchema, { method: 'POST', path: '/v1/loglikelihood', body: req }, signal);
      return r as LoglikelihoodWireResponse;
    },
    generate: async (req, signal) => {
      const { bytes: _b, ...r } = await call(GenerateResponseSchema, { method: 'POST', path: '/v1/generate', body: req }, signal);
      return r as GenerateWireResponse;
    },
    raw: (method, path, body, init) => raw({ method, path, body, init }),
    close: () => own?.close(),
  };
}
