// The OpenAI moderation endpoint through the official SDK. Which number counts as "toxicity" is a choice, recorded
// in the version string:
//   attribute "toxicity" (default): the largest of harassment, harassment/threatening, hate, hate/threatening,
//     sexual and violence — the categories that overlap Perspective's TOXICITY ("rude, disrespectful or
//     unreasonable"); self-harm, illicit and the minors category are about other harms and left out;
//   attribute "max": the largest of every category the model returns;
//   any category name (e.g. "harassment", "hate/threatening"): that category's score alone.
import type OpenAI from 'openai';
import { SclabError } from '../model/errors';
import { makeClient, observingFetch, RequestGate } from '../backends/openai/client';
import type { RequestScheduler } from '../backends/requests';
import { parseEndpoint } from '../backends/openai/endpoint';
import { createHttpFetch } from '../backends/openai/http-fetch';
import { scoreNonBlankInBatches, type Scorer } from './scorer';

export const MODERATION_DEFAULT_MODEL = 'omni-moderation-latest';
export const MODERATION_DEFAULT_URL = 'https://api.openai.com/v1';
export const MODERATION_TOXICITY_CATEGORIES = ['harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'sexual', 'violence'] as const;
/** inputs per request; the endpoint takes an array */
const BATCH = 32;

export interface ModerationOptions {
  apiKey?: string;
  model?: string;
  /** "toxicity" (default), "max" or a category name */
  attribute?: string;
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** the service's own request scheduler (slots, per-minute budgets, retry per request); none: each request once */
  scheduler?: RequestScheduler;
}

function pick(scores: Record<string, unknown>, attribute: string, what: string): number {
  const num = (k: string): number | undefined => {
    const v = scores[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  if (attribute === 'toxicity' || attribute === 'max') {
    const keys = attribute === 'max' ? Object.keys(scores) : MODERATION_TOXICITY_CATEGORIES;
    const values = keys.map(num).filter((v): v is number => v !== undefined);
    if (values.length === 0) throw new SclabError('malformed_response', `${what}: a result has none of the categories ${keys.join(', ')}`, { retryable: true });
    return Math.max(...values);
  }
  const v = num(attribute);
  if (v === undefined) throw new SclabError('malformed_response', `${what}: a result has no category_scores["${attribute}"] number`, { retryable: true });
  return v;
}

export function createModerationScorer(opts: ModerationOptions): Scorer {
  const model = opts.model ?? MODERATION_DEFAULT_MODEL;
  const attribute = opts.attribute ?? 'toxicity';
  if (!attribute.trim()) throw new SclabError('config', 'openai-moderation: attribute must not be empty');
  const endpoint = parseEndpoint(opts.baseUrl ?? MODERATION_DEFAULT_URL);
  const secrets = [...(opts.apiKey ? [opts.apiKey] : []), ...endpoint.secrets];
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const own = opts.fetch ? undefined : createHttpFetch();
  const gate = new RequestGate(timeoutMs, secrets, opts.scheduler);
  const client: OpenAI = makeClient(endpoint, opts.apiKey, timeoutMs, observingFetch(opts.fetch ?? own!.fetch, gate));
  const what = `openai-moderation POST ${endpoint.publicUrl}/moderations`;
  let version = `${model}/${attribute}`;

  async function scoreBatch(texts: string[], signal?: AbortSignal): Promise<number[]> {
    const raw = await gate.run(what, signal, (s) => client.moderations.create({ model, input: texts }, { signal: s }));
    const results = (raw as { results?: unknown }).results;
    if (!Array.isArray(results) || results.length !== texts.length) {
      throw new SclabError('malformed_response', `${what}: expected ${texts.length} results, got ${Array.isArray(results) ? results.length : 'none'}`, { retryable: true });
    }
    // the model that answered (e.g. omni-moderation-2024-09-26) says more than the alias that was asked for
    if (typeof raw.model === 'string' && raw.model) version = `${raw.model}/${attribute}`;
    return results.map((r: unknown) => {
      const scores = (r as { category_scores?: unknown } | null)?.category_scores;
      if (!scores || typeof scores !== 'object') throw new SclabError('malformed_response', `${what}: a result has no category_scores`, { retryable: true });
      return pick(scores as Record<string, unknown>, attribute, what);
    });
  }

  return {
    name: 'openai-moderation',
    get version() {
      return version;
    },
    notes: [],
    score(texts, signal) {
      return scoreNonBlankInBatches(texts, BATCH, (batch) => scoreBatch(batch, signal));
    },
    async close() {
      own?.close();
    },
  };
}
