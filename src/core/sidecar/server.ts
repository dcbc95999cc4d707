// The sidecar HTTP server (node:http): the sclab.sidecar/1 routes, plus the OpenAI-compatible routes when the
// provider generates. Loopback by default; with a token every route needs `Authorization: Bearer <token>`.
// The token is never logged or echoed.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LoadedProbe } from '../probes/probe';
import type { Steering } from '../backends/backend';
import { decodeVector, encodeVector } from './encoding';
import { checkBearer, parseBody, readJsonBody, sendError, sendJson } from './http';
import { chatCompletions, completions, modelsAnswer, servingTokenize } from './openai-routes';
import { resolveProbes, scoreProbes } from './probe-scoring';
import {
  GenerateRequestSchema,
  HiddenStatesRequestSchema,
  LoglikelihoodRequestSchema,
  ProbeScoresRequestSchema,
  SIDECAR_PROTOCOL,
  SteerWireSchema,
  TokenizeRequestSchema,
  toEngineModule,
  toWireModule,
  WIRE_MODULES,
  type SidecarInfo,
  type SidecarInput,
  type SteerWire,
} from './protocol';
import type { ProviderInfo, ServedModel, SidecarProvider } from './provider';
import { toWireError, WireError } from './wire-error';
import { guardRequest } from '../util/request-guard';

/** bound to one of these, the server answers only requests whose Host names loopback (DNS rebinding) */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface SidecarLimits {
  /** largest request body accepted (413 above) */
  maxBodyBytes: number;
  /** longest prompt, context or message text in characters (413 above); the model's context bounds tokens */
  maxPromptChars: number;
}

export const DEFAULT_LIMITS: SidecarLimits = { maxBodyBytes: 8 * 1024 * 1024, maxPromptChars: 200_000 };

export interface SidecarServerOptions {
  provider: SidecarProvider;
  /** default 127.0.0.1 (loopback) */
  host?: string;
  /** default 0: any free port */
  port?: number;
  token?: string;
  limits?: Partial<SidecarLimits>;
  /** probes clients may name by id */
  probes?: ReadonlyMap<string, LoadedProbe>;
  /** one line per request (method, path, status, ms); never the body or the token */
  log?: (line: string) => void;
}

export interface SidecarServer {
  /** e.g. http://127.0.0.1:8765 (the OpenAI-compatible base URL is url + "/v1") */
  url: string;
  info: SidecarInfo;
  close(): Promise<void>;
}

function inputChars(input: Partial<SidecarInput> & { context?: string }): number {
  return (input.prompt?.length ?? 0) + (input.context?.length ?? 0) + (input.prefill?.length ?? 0) + (input.messages ?? []).reduce((n, m) => n + m.content.length, 0);
}

function describe(p: ProviderInfo, limits: SidecarLimits, provider: SidecarProvider, probes: ReadonlyMap<string, LoadedProbe>): SidecarInfo {
  const info: SidecarInfo = {
    protocol: SIDECAR_PROTOCOL,
    model: p.model,
    n_layers: p.nLayers,
    d_model: p.dModel,
    modules: [...WIRE_MODULES],
    capabilities: { hidden_states: true, probe_scores: true, loglikelihood: provider.loglikelihood !== undefined, openai: provider.chat !== undefined && provider.complete !== undefined, generate: provider.generate !== undefined, steer: provider.steers === true },
    limits: { max_body_bytes: limits.maxBodyBytes, max_prompt_chars: limits.maxPromptChars, ...(p.maxTokens ? { max_tokens: p.maxTokens } : {}) },
    implementation: p.implementation,
    probes: [...probes.keys()],
  };
  if (p.identity) info.identity = { name: p.identity.name, n_layers: p.identity.nLayers, d_model: p.identity.dModel, weights_sha256: p.identity.weightsSha256 };
  return info;
}

export async function startSidecarServer(opts: SidecarServerOptions): Promise<SidecarServer> {
  const limits: SidecarLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const provider = opts.provider;
  const probes = opts.probes ?? new Map<string, LoadedProbe>();
  const pinfo = await provider.info();
  const info = describe(pinfo, limits, provider, probes);
  const model = pinfo.model;
  const served: ServedModel = { provider, model };

  const checkChars = (input: Partial<SidecarInput> & { context?: string }): void => {
    const n = inputChars(input);
    if (n > limits.maxPromptChars) throw new WireError('prompt_too_long', `the input text is ${n} characters; this server accepts at most ${limits.maxPromptChars}`);
  };

  /** the wire's steer field as the provider takes it; a server that cannot steer says so instead of ignoring it */
  const steeringOf = (steer: SteerWire | undefined, route: string): Steering | undefined => {
    if (!steer) return undefined;
    if (!provider.steers) throw new WireError('unsupported', `${route}: this server cannot steer (capability steer is false in GET /v1/info)`);
    const s = SteerWireSchema.parse(steer);
    const layers = s.layers.map((l, i) => ({ layer: l.layer, direction: Array.from(decodeVector(l.direction, `steer.layers[${i}].direction`)) }));
    return { intervention: { mode: s.mode, alpha: s.alpha, layers }, positions: s.positions };
  };

  const routes: Record<string, (body: unknown, signal: AbortSignal) => Promise<unknown>> = {
    'GET /v1/info': async () => info,

    'POST /v1/hidden_states': async (body, signal) => {
      const r = parseBody(HiddenStatesRequestSchema, body, 'POST /v1/hidden_states');
      checkChars(r);
      const module = toEngineModule(r.module);
      const h = await provider.hiddenStates(r, { layers: r.layers, position: r.position, module, convention: r.convention }, signal, steeringOf(r.steer, 'POST /v1/hidden_states'));
      return {
        protocol: SIDECAR_PROTOCOL,
        model,
        module: toWireModule(h.module),
        position: h.position,
        convention: h.convention,
        encoding: r.encoding,
        layer_ids: h.layers,
        dim: h.dim,
        n_tokens: h.nTokens,
        ...(h.specialPositions ? { special_positions: h.specialPositions } : {}),
        layers: h.vectors.map((v) => encodeVector(v, r.encoding)),
      };
    },

    'POST /v1/probe_scores': async (body, signal) => {
      const r = parseBody(ProbeScoresRequestSchema, body, 'POST /v1/probe_scores');
      checkChars(r);
      const resolved = resolveProbes(r.probes, probes, pinfo.identity);
      return scoreProbes(served, r, resolved, signal);
    },

    'POST /v1/loglikelihood': async (body, signal) => {
      if (!provider.loglikelihood) throw new WireError('unsupported', 'this server does not compute log-likelihoods');
      const r = parseBody(LoglikelihoodRequestSchema, body, 'POST /v1/loglikelihood');
      checkChars(r);
      const input: SidecarInput = r.messages ? { messages: r.messages, ...(r.prefill !== undefined ? { prefill: r.prefill } : {}) } : { prompt: r.context! };
      const results = await provider.loglikelihood(input, r.continuations, signal, steeringOf(r.steer, 'POST /v1/loglikelihood'));
      return { protocol: SIDECAR_PROTOCOL, model, results };
    },

    'POST /v1/generate': async (body, signal) => {
      if (!provider.generate) throw new WireError('unsupported', 'this server does not generate through POST /v1/generate');
      const r = parseBody(GenerateRequestSchema, body, 'POST /v1/generate');
      checkChars(r);
      const input: SidecarInput = r.messages ? { messages: r.messages, ...(r.prefill !== undefined ? { prefill: r.prefill } : {}) } : { prompt: r.prompt! };
      const params = { maxTokens: r.max_tokens, temperature: r.temperature, topP: r.top_p, stop: r.stop, topLogprobs: 0, ...(r.seed !== undefined ? { seed: r.seed } : {}) };
      const g = await provider.generate(input, params, signal, steeringOf(r.steer, 'POST /v1/generate'));
      return { protocol: SIDECAR_PROTOCOL, model, text: g.text, finish_reason: g.finishReason, prompt_tokens: g.promptTokens, completion_tokens: g.tokens.length };
    },
  };
  if (provider.tokenize) {
    const tokenize = provider.tokenize.bind(provider);
    routes['POST /v1/tokenize'] = async (body, signal) => {
      const r = parseBody(TokenizeRequestSchema, body, 'POST /v1/tokenize');
      checkChars(r);
      const t = await tokenize(r, signal);
      return { protocol: SIDECAR_PROTOCOL, model, text: t.text, tokens: t.ids, bos_id: t.bosId };
    };
  }
  if (info.capabilities.openai) {
    // vLLM's and llama.cpp's tokenizer endpoint, so clients can check that they agree with what this server runs
    if (provider.tokenize) routes['POST /tokenize'] = async (body, signal) => servingTokenize(served, limits.maxPromptChars, body, signal);
    routes['GET /v1/models'] = async () => modelsAnswer(model);
    // the same character limit as the sidecar routes, checked before anything is tokenized
    routes['POST /v1/chat/completions'] = async (body, signal) => chatCompletions(served, body, signal, checkChars);
    routes['POST /v1/completions'] = async (body, signal) => completions(served, body, signal, checkChars);
  }
  const paths = new Set(Object.keys(routes).map((k) => k.split(' ')[1]));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const verdict = guardRequest(req, { port: listeningPort, hosts: LOOPBACK_HOSTS.has(host) ? 'loopback' : 'any', browsers: 'none' });
    if (!verdict.ok) {
      sendError(res, new WireError(verdict.status === 400 ? 'bad_request' : verdict.status === 403 ? 'forbidden' : 'unsupported_media_type', verdict.message));
      opts.log?.(`${req.method} (refused) ${verdict.status} ${(performance.now() - started).toFixed(1)} ms`);
      return;
    }
    const path = verdict.target.path.replace(/\/+$/, '') || '/';
    // a client that goes away cancels its request (at the engine's next token or layer)
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      if (opts.token !== undefined) checkBearer(req, opts.token);
      const route = routes[`${req.method} ${path}`];
      if (!route) {
        if (paths.has(path)) throw new WireError('method_not_allowed', `${req.method} is not allowed on ${path}`);
        throw new WireError('not_found', `no route ${req.method} ${path}; this server speaks ${SIDECAR_PROTOCOL} (see GET /v1/info)`);
      }
      const body = req.method === 'POST' ? await readJsonBody(req, limits.maxBodyBytes) : undefined;
      sendJson(res, 200, await route(body, gone.signal));
    } catch (e) {
      const w = toWireError(e);
      // the rest of an oversized body is not read: close the connection rather than drain it
      if (w.code === 'too_large') res.setHeader('connection', 'close');
      sendError(res, w);
    } finally {
      opts.log?.(`${req.method} ${path} ${res.statusCode} ${(performance.now() - started).toFixed(1)} ms`);
    }
  }

  const host = opts.host ?? '127.0.0.1';
  let listeningPort = 0;
  const server = http.createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  listeningPort = addr.port;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    info,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
