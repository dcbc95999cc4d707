import * as path from 'node:path';
import type { Backend } from '../core/backends/backend';
import { SclabError } from '../core/model/errors';
import type { BackendRef } from '../core/model/experiment';
import type { ApiKeys, OriginDecision } from './secrets';
import type { BackendSetting } from './settings';
import { core } from './load-core';

export interface BackendFactoryDeps {
  keys: ApiKeys;
  /** dist/ of the installed extension: the engine worker lies beside extension.js */
  distDir: string;
  /** relative model paths resolve against this folder */
  baseDir: string | undefined;
  onModelProgress?: (message: string) => void;
  /** asked before a backend's key goes to another origin than the one it was stored for (default: not sent) */
  askKeyOrigin?: (backendName: string, boundTo: string, now: string) => Promise<OriginDecision>;
}

/** What the run records about the backend (no secret: the key stays in SecretStorage). */
export function refOf(b: BackendSetting): BackendRef {
  return {
    kind: b.kind,
    ...(b.model ? { model: b.model } : {}),
    ...(b.baseUrl ? { baseUrl: b.baseUrl } : {}),
    ...(b.maxRpm ? { maxRpm: b.maxRpm } : {}),
    ...(b.maxTpm ? { maxTpm: b.maxTpm } : {}),
  };
}

/** An embedded backend's model (a catalogue name or a local path) as files on disk, through the verified cache. */
export async function resolveEmbeddedModel(
  b: BackendSetting,
  opts: { baseDir: string | undefined; signal?: AbortSignal; onModelProgress?: (message: string) => void },
): Promise<{ kind: 'llama2c'; bin: string; tokenizer: string } | { kind: 'hf'; dir: string }> {
  const { resolveModel, modelCacheSettings } = await core();
  // the model cache the CLI uses too, so a model downloaded once serves both hosts
  const resolved = await resolveModel(b.model ?? 'stories260K', {
    ...modelCacheSettings(process.env, process.platform),
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (p) => opts.onModelProgress?.(`model ${p.file}: ${p.total ? `${Math.floor((100 * p.received) / p.total)}%` : `${(p.received / 1e6).toFixed(1)} MB`}`),
  });
  return resolved.kind === 'llama2c' ? { kind: 'llama2c', bin: resolved.bin, tokenizer: resolved.tokenizer } : { kind: 'hf', dir: resolved.dir };
}

/** The host resolves settings and secrets into a core Backend; core never reads either. */
export async function createBackendFor(b: BackendSetting, deps: BackendFactoryDeps, opts: { requestTimeoutMs: number; signal?: AbortSignal; concurrency?: number }): Promise<Backend> {
  switch (b.kind) {
    case 'openai': {
      if (!b.baseUrl) throw new SclabError('config', `backend "${b.name}" needs a baseUrl (e.g. http://127.0.0.1:8000/v1) in sclab.backends`);
      if (!b.model) throw new SclabError('config', `backend "${b.name}" needs a model (the name the server serves) in sclab.backends`);
      const apiKey = await deps.keys.keyFor(b.name, b.baseUrl, (bound, now) => (deps.askKeyOrigin ? deps.askKeyOrigin(b.name, bound, now) : Promise.resolve('cancel')));
      const { createOpenAIBackend } = await core();
      return createOpenAIBackend({ baseUrl: b.baseUrl, model: b.model, ...(apiKey ? { apiKey } : {}), requestTimeoutMs: opts.requestTimeoutMs });
    }
    case 'embedded': {
      const modelSpec = await resolveEmbeddedModel(b, { baseDir: deps.baseDir, signal: opts.signal, onModelProgress: deps.onModelProgress });
      const { createEmbeddedBackend, engineWorkersFor } = await core();
      // the engine always runs in its workers: the extension host must never block on a forward pass
      return createEmbeddedBackend({ modelSpec, workerPath: path.join(deps.distDir, 'engine-worker.js'), mode: 'worker', workers: engineWorkersFor({ concurrency: opts.concurrency }) });
    }
    case 'sidecar': {
      // the sidecar (hidden states, probe scores) and the OpenAI-compatible server (generation) serve one model
      if (!b.sidecarUrl) throw new SclabError('config', `backend "${b.name}" needs a sidecarUrl (e.g. http://127.0.0.1:8765) in sclab.backends`);
      if (!b.baseUrl) throw new SclabError('config', `backend "${b.name}" needs a baseUrl: the OpenAI-compatible server that generates (e.g. http://127.0.0.1:8000/v1)`);
      const apiKey = await deps.keys.keyFor(b.name, b.baseUrl, (bound, now) => (deps.askKeyOrigin ? deps.askKeyOrigin(b.name, bound, now) : Promise.resolve('cancel')));
      const sidecarToken = await deps.keys.sidecarTokenFor(b.name, b.sidecarUrl);
      const { createSidecarBackend } = await core();
      return createSidecarBackend({
        sidecarUrl: b.sidecarUrl,
        baseUrl: b.baseUrl,
        requestTimeoutMs: opts.requestTimeoutMs,
        ...(sidecarToken ? { sidecarToken } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(b.model ? { model: b.model } : {}),
      });
    }
  }
}

/** Codes of failures that belong to a backend: the message then says which one (its name and URL) to fix. */
const BACKEND_FAILURES = new Set(['auth', 'timeout', 'rate_limit', 'server', 'network', 'malformed_response', 'bad_request', 'unsupported', 'model']);

export function namingBackend(err: unknown, b: BackendSetting): unknown {
  // by code, not instanceof: errors from the lazily loaded core bundle are instances of that bundle's SclabError
  const e = err as Partial<SclabError> | null;
  if (!(err instanceof Error) || typeof e?.code !== 'string' || !BACKEND_FAILURES.has(e.code) || err.message.includes(`"${b.name}"`)) return err;
  return new SclabError(e.code, `backend "${b.name}"${b.baseUrl ? ` (${b.baseUrl})` : ''}: ${err.message}`, {
    cause: err,
    retryable: e.retryable === true,
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.retryAfterMs === 'number' ? { retryAfterMs: e.retryAfterMs } : {}),
  });
}
