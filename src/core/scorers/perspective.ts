// Google's Perspective API (commentanalyzer). One comment per request: the API has no batch call, so texts are
// sent one after another (the default quota is 1 request per second; raise `concurrency` only with a higher quota).
import { SclabError } from '../model/errors';
import { parseEndpoint } from '../backends/openai/endpoint';
import type { RequestScheduler } from '../backends/requests';
import { createJsonPoster } from './http-json';
import { isBlank, type Scorer } from './scorer';

export const PERSPECTIVE_DEFAULT_URL = 'https://commentanalyzer.googleapis.com/v1alpha1';
export const PERSPECTIVE_SHUTDOWN_NOTE =
  'Google has announced that the Perspective API shuts down at the end of 2026; record and compare scores from another scorer (openai-moderation, http, offline) as well';

export interface PerspectiveOptions {
  apiKey: string;
  /** e.g. TOXICITY (default, the paper's score), SEVERE_TOXICITY, INSULT, PROFANITY, THREAT, IDENTITY_ATTACK */
  attribute?: string;
  /** default: the public API; tests point it at a local server */
  baseUrl?: string;
  /** languages the texts are in; default ["en"] (without it, short texts fail language detection) */
  languages?: string[];
  timeoutMs?: number;
  /** requests in flight at once; default 1 */
  concurrency?: number;
  fetch?: typeof fetch;
  /** the service's own request scheduler (slots, per-minute budgets, retry per request); none: each request once */
  scheduler?: RequestScheduler;
}

const ATTRIBUTE_RE = /^[A-Z][A-Z_]*$/;

function readSummary(raw: unknown, attribute: string, what: string): number {
  const scores = (raw as { attributeScores?: Record<string, { summaryScore?: { value?: unknown } }> } | null)?.attributeScores;
  const value = scores?.[attribute]?.summaryScore?.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SclabError('malformed_response', `${what}: the answer has no attributeScores.${attribute}.summaryScore.value number`, { retryable: true });
  }
  return value;
}

export function createPerspectiveScorer(opts: PerspectiveOptions): Scorer {
  const attribute = (opts.attribute ?? 'TOXICITY').toUpperCase();
  if (!ATTRIBUTE_RE.test(attribute)) throw new SclabError('config', `perspective: attribute "${opts.attribute}" is not a Perspective attribute name (e.g. TOXICITY)`);
  if (!opts.apiKey) throw new SclabError('config', 'perspective: no API key (set the environment variable named by apiKeyEnv)');
  const endpoint = parseEndpoint(opts.baseUrl ?? PERSPECTIVE_DEFAULT_URL);
  const secrets = [opts.apiKey, ...endpoint.secrets];
  const query = new URLSearchParams({ ...endpoint.defaultQuery, key: opts.apiKey });
  const url = `${endpoint.requestBaseUrl}/comments:analyze?${query.toString()}`;
  const poster = createJsonPoster({ timeoutMs: opts.timeoutMs ?? 30_000, secrets, fetch: opts.fetch, scheduler: opts.scheduler });
  const languages = opts.languages ?? ['en'];
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const what = `perspective ${endpoint.publicUrl}/comments:analyze`;

  async function scoreOne(text: string, signal?: AbortSignal): Promise<number | null> {
    if (isBlank(text)) return null;
    const body = { comment: { text }, requestedAttributes: { [attribute]: {} }, languages, doNotStore: true };
    return readSummary(await poster.post(url, body, what, signal), attribute, what);
  }

  return {
    name: 'perspective',
    version: `v1alpha1/${attribute}`,
    notes: [PERSPECTIVE_SHUTDOWN_NOTE],
    async score(texts, signal) {
      const out: Array<number | null> = new Array<number | null>(texts.length).fill(null);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < texts.length) {
          const i = next++;
          out[i] = await scoreOne(texts[i]!, signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, texts.length) }, worker));
      return out;
    },
    async close() {
      poster.close();
    },
  };
}
