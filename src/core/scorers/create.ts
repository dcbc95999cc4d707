// Builds a scorer from an experiment's ScorerRef. Keys come from the host's SecretProvider under the variable the
// ref names (defaults below); a missing key is a 'config' error that names the variable, never a value.
import * as path from 'node:path';
import type { SecretProvider } from '../backends/backend';
import { SclabError } from '../model/errors';
import type { ScorerRef } from '../model/experiment';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../runner/retry';
import { AdaptiveScheduler } from '../runner/scheduler';
import { createHttpScorer } from './http-scorer';
import { builtinToxicityScorer } from './offline/builtin';
import { loadOfflineScorer } from './offline/scorer';
import { createModerationScorer } from './openai-moderation';
import { createPerspectiveScorer } from './perspective';
import type { Scorer } from './scorer';

/** requests in flight to a scorer's service unless the experiment says otherwise */
export const DEFAULT_SCORER_CONCURRENCY = 4;

export const DEFAULT_KEY_ENV = { perspective: 'PERSPECTIVE_API_KEY', 'openai-moderation': 'OPENAI_API_KEY' } as const;

export interface CreateScorerOptions {
  /** offline scorer files are resolved against this (the experiment file's folder) */
  baseDir: string;
  secrets: SecretProvider;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** how the scorer's own scheduler retries a request (default: the SDK-like policy) */
  retry?: RetryPolicy;
}

async function key(ref: ScorerRef, secrets: SecretProvider, fallback: string | undefined, required: boolean): Promise<string | undefined> {
  const name = ref.apiKeyEnv ?? fallback;
  if (!name) return undefined;
  const value = await secrets.get(name);
  if (!value && required) throw new SclabError('config', `scorer "${ref.name}" (${ref.kind}) needs an API key in the environment variable ${name}, which is not set`);
  return value || undefined;
}

/** A scorer's own service gets its own scheduler: its limits are not the model server's. */
export function scorerScheduler(ref: ScorerRef, retry: RetryPolicy = DEFAULT_RETRY_POLICY): AdaptiveScheduler {
  return new AdaptiveScheduler({ concurrency: ref.concurrency ?? DEFAULT_SCORER_CONCURRENCY, maxRpm: ref.maxRpm, maxTpm: ref.maxTpm }, { retry });
}

export async function createScorer(ref: ScorerRef, opts: CreateScorerOptions): Promise<Scorer> {
  const common = { timeoutMs: opts.timeoutMs, fetch: opts.fetch, scheduler: ref.kind === 'offline' ? undefined : scorerScheduler(ref, opts.retry) };
  switch (ref.kind) {
    case 'perspective':
      return createPerspectiveScorer({
        ...common,
        apiKey: (await key(ref, opts.secrets, DEFAULT_KEY_ENV.perspective, true))!,
        attribute: ref.attribute,
        baseUrl: ref.url,
      });
    case 'openai-moderation':
      return createModerationScorer({
        ...common,
        // the public endpoint needs a key; a local stand-in (ref.url) may not
        apiKey: await key(ref, opts.secrets, DEFAULT_KEY_ENV['openai-moderation'], ref.url === undefined || ref.apiKeyEnv !== undefined),
        model: ref.model,
        attribute: ref.attribute,
        baseUrl: ref.url,
      });
    case 'http':
      if (!ref.url) throw new SclabError('config', `scorer "${ref.name}" (http) needs url: the endpoint that takes {"texts": [...]} and returns {"scores": [...]}`);
      return createHttpScorer({ ...common, url: ref.url, apiKey: await key(ref, opts.secrets, undefined, true), attribute: ref.attribute });
    case 'offline': {
      if (ref.attribute !== undefined) throw new SclabError('config', `scorer "${ref.name}" (offline) has one output; remove attribute "${ref.attribute}"`);
      // no model file: the toxicity scorer shipped with sclab
      if (!ref.model) return builtinToxicityScorer();
      return (await loadOfflineScorer(path.resolve(opts.baseDir, ref.model))).scorer;
    }
  }
}
