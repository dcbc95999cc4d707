import type { Backend } from '../core/backends/backend';
import { createEmbeddedBackend, engineWorkersFor } from '../core/backends/embedded';
import type { FmaMode } from '../core/engine/kernels-wasm';
import { createOpenAIBackend } from '../core/backends/openai';
import { createSidecarBackend } from '../core/backends/sidecar';
import { DEFAULT_EMBEDDED_MODEL, resolveModelForCli } from './models';
import { SclabError } from '../core/model/errors';
import type { BackendRef } from '../core/model/experiment';

export interface BackendFlags {
  backend?: string;
  model?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  maxRpm?: number;
  maxTpm?: number;
}

export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';

/** Flags win over the experiment file, which wins over the defaults; the key only ever comes from the environment. */
export function resolveBackendRef(flags: BackendFlags, fromExperiment?: BackendRef): BackendRef {
  const kind = (flags.backend ?? (flags.baseUrl ? 'openai' : fromExperiment?.kind) ?? 'embedded') as BackendRef['kind'];
  if (!['openai', 'embedded', 'sidecar'].includes(kind)) {
    throw new SclabError('config', `--backend must be openai, embedded or sidecar (got "${flags.backend}")`);
  }
  const sameKind = fromExperiment?.kind === kind ? fromExperiment : undefined;
  return {
    kind,
    model: flags.model ?? sameKind?.model,
    baseUrl: flags.baseUrl ?? sameKind?.baseUrl,
    apiKeyEnv: flags.apiKeyEnv ?? sameKind?.apiKeyEnv,
    ...optional('maxRpm', flags.maxRpm ?? sameKind?.maxRpm),
    ...optional('maxTpm', flags.maxTpm ?? sameKind?.maxTpm),
  };
}

const optional = <K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> => (value === undefined ? {} : ({ [key]: value } as Record<K, number>));

export async function createBackend(
  ref: BackendRef,
  opts: {
    requestTimeoutMs: number;
    env: NodeJS.ProcessEnv;
    extraMirrors?: string[];
    signal?: AbortSignal;
    maxResponseBytes?: number;
    /** embedded engine: prefix cache budget in MiB (0 = off; default: the engine's) */
    engineCacheMiB?: number;
    /** embedded engine: worker threads (default: the cores), at most `concurrency` of them (see engineWorkersFor) */
    engineThreads?: number;
    /** the run's requests in flight */
    concurrency?: number;
    /** embedded engine: fused multiply-add in the matmul kernels (default auto) */
    engineFma?: FmaMode;
  },
): Promise<Backend> {
  switch (ref.kind) {
    case 'openai': {
      const baseUrl = ref.baseUrl ?? opts.env.OPENAI_BASE_URL;
      if (!baseUrl) throw new SclabError('config', 'the openai backend needs --base-url URL (e.g. http://127.0.0.1:8000/v1) or OPENAI_BASE_URL');
      if (!ref.model) throw new SclabError('config', 'the openai backend needs --model ID (the model name the server serves)');
      const keyEnv = ref.apiKeyEnv ?? DEFAULT_API_KEY_ENV;
      return createOpenAIBackend({ baseUrl, model: ref.model, apiKey: opts.env[keyEnv], requestTimeoutMs: opts.requestTimeoutMs, ...(opts.maxResponseBytes ? { maxResponseBytes: opts.maxResponseBytes } : {}) });
    }
    case 'embedded': {
      const modelSpec = await resolveModelForCli(ref.model ?? DEFAULT_EMBEDDED_MODEL, { extraMirrors: opts.extraMirrors, signal: opts.signal });
      const mib = opts.engineCacheMiB;
      const workers = engineWorkersFor({ engineThreads: opts.engineThreads, concurrency: opts.concurrency });
      return createEmbeddedBackend({ modelSpec, workers, ...(opts.engineFma ? { fma: opts.engineFma } : {}), ...(mib !== undefined ? { prefixCache: mib === 0 ? false : { budgetBytes: Math.round(mib * 2 ** 20) } } : {}) });
    }
    case 'sidecar': {
      // the sidecar (hidden states, probe scores) and the OpenAI-compatible server (generation) must serve one model
      const sidecarUrl = opts.env.SCLAB_SIDECAR_URL;
      if (!sidecarUrl) throw new SclabError('config', 'the sidecar backend needs --sidecar-url URL (or SCLAB_SIDECAR_URL), e.g. http://127.0.0.1:8765');
      const baseUrl = ref.baseUrl ?? opts.env.OPENAI_BASE_URL;
      if (!baseUrl) throw new SclabError('config', 'the sidecar backend needs --base-url URL of the OpenAI-compatible server that generates (e.g. http://127.0.0.1:8000/v1)');
      const keyEnv = ref.apiKeyEnv ?? DEFAULT_API_KEY_ENV;
      return createSidecarBackend({
        sidecarUrl,
        sidecarToken: opts.env.SCLAB_SIDECAR_TOKEN || undefined,
        baseUrl,
        apiKey: opts.env[keyEnv],
        requestTimeoutMs: opts.requestTimeoutMs,
        ...(ref.model ? { model: ref.model } : {}),
      });
    }
  }
}
