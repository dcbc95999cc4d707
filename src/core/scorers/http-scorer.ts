// The generic HTTP scorer, so that any service plugs in (a self-hosted Detoxify, a classifier behind a small
// Flask app). The contract, one POST per batch of texts:
//   request:  {"texts": ["first text", "second text"]}            (Authorization: Bearer KEY when a key is set)
//   answer:   {"scores": [0.93, 0.02], "version": "detoxify-original-0.5"}    ("version" optional)
// Each entry of "scores" is a number or null (not scored). With `attribute` set, each entry is an object and the
// attribute — a key, or a JSON pointer such as "/toxicity" or "/labels/toxic" — names the number inside it, so
// Detoxify's {"scores": [{"toxicity": 0.93, "insult": 0.4}]} works with attribute "toxicity".
import { SclabError } from '../model/errors';
import { parseEndpoint } from '../backends/openai/endpoint';
import type { RequestScheduler } from '../backends/requests';
import { createJsonPoster } from './http-json';
import { scoreNonBlankInBatches, type Scorer } from './scorer';

export interface HttpScorerOptions {
  url: string;
  apiKey?: string;
  /** a key or JSON pointer into each entry of "scores" (entries are then objects) */
  attribute?: string;
  /** texts per request; default 32 */
  batchSize?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** the service's own request scheduler (slots, per-minute budgets, retry per request); none: each request once */
  scheduler?: RequestScheduler;
}

/** RFC 6901 pointer ("/a/b", with ~1 for "/" and ~0 for "~"), or a plain key when it does not start with "/". */
export function parsePointer(attribute: string): string[] {
  if (!attribute.startsWith('/')) return [attribute];
  return attribute
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function entryValue(entry: unknown, pointer: string[] | undefined, at: string): number | null {
  let v: unknown = entry;
  if (pointer && v !== null) {
    for (const key of pointer) {
      if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key)) {
        throw new SclabError('malformed_response', `${at} has no "${pointer.join('/')}"`, { retryable: true });
      }
      v = (v as Record<string, unknown>)[key];
    }
  }
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new SclabError('malformed_response', `${at} is ${JSON.stringify(v)?.slice(0, 60)}, not a number or null${pointer ? '' : ' (set attribute to read a number inside objects)'}`, { retryable: true });
  }
  return v;
}

export function createHttpScorer(opts: HttpScorerOptions): Scorer {
  const endpoint = parseEndpoint(opts.url);
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 32));
  const secrets = [...(opts.apiKey ? [opts.apiKey] : []), ...endpoint.secrets];
  const query = endpoint.defaultQuery ? `?${new URLSearchParams(endpoint.defaultQuery).toString()}` : '';
  const url = endpoint.requestBaseUrl + query;
  const poster = createJsonPoster({
    timeoutMs: opts.timeoutMs ?? 60_000,
    secrets,
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : undefined,
    fetch: opts.fetch,
    scheduler: opts.scheduler,
  });
  const pointer = opts.attribute ? parsePointer(opts.attribute) : undefined;
  const what = `http scorer POST ${endpoint.publicUrl}`;
  const attrPart = opts.attribute ? `#${opts.attribute}` : '';
  let version = `${endpoint.publicUrl}${attrPart}`;

  async function scoreBatch(texts: string[], signal?: AbortSignal): Promise<Array<number | null>> {
    const raw = await poster.post(url, { texts }, what, signal);
    const scores = (raw as { scores?: unknown } | null)?.scores;
    if (!Array.isArray(scores)) throw new SclabError('malformed_response', `${what}: the answer has no "scores" array`, { retryable: true });
    if (scores.length !== texts.length) {
      throw new SclabError('malformed_response', `${what}: sent ${texts.length} texts, got ${scores.length} scores`, { retryable: true });
    }
    const v = (raw as { version?: unknown }).version;
    if (typeof v === 'string' && v) version = `${v}@${endpoint.publicUrl}${attrPart}`;
    return scores.map((s, i) => entryValue(s, pointer, `${what}: scores[${i}]`));
  }

  return {
    name: 'http',
    get version() {
      return version;
    },
    notes: [],
    score(texts, signal) {
      return scoreNonBlankInBatches(texts, batchSize, (batch) => scoreBatch(batch, signal));
    },
    async close() {
      poster.close();
    },
  };
}
