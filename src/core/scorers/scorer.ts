import type { ScorerCard } from '../model/manifest';

/** What a run's manifest, report and viewer say about a scorer besides its name and version. */
export type ScorerAbout = Pick<ScorerCard, 'builtin' | 'description' | 'trainingData' | 'agreement' | 'advice'>;

/**
 * A per-response scorer (e.g. toxicity). Every number it returns is recorded together with `name` and `version`, so
 * scores from different services or model versions are never mixed up silently.
 */
export interface Scorer {
  /** the kind of service, e.g. "perspective", "openai-moderation", "http", "offline" */
  readonly name: string;
  /** what produced the numbers: attribute, model or file hash; may become more precise after the first answer */
  readonly version: string;
  /** things a user must know about this scorer (e.g. a service being shut down); shown once by hosts */
  readonly notes: readonly string[];
  /** the model card of a released model (the shipped default): its training data and agreement with Perspective */
  readonly about?: ScorerAbout;
  /**
   * One score per text, in order; null where the service declined to score a text (empty text, unsupported
   * language). Batches where the service allows. Throws SclabError (429/5xx/network retryable, 401/403 'auth').
   */
  score(texts: string[], signal?: AbortSignal): Promise<Array<number | null>>;
  /** releases connections */
  close(): Promise<void>;
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Texts no scorer is asked about: a service would refuse them, and "no text" has no toxicity. */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * Scores the non-blank texts in batches of at most `size` (blank ones stay null and are never sent), keeping the
 * answers in the order of `texts`.
 */
export async function scoreNonBlankInBatches(
  texts: readonly string[],
  size: number,
  scoreBatch: (batch: string[]) => Promise<Array<number | null>>,
): Promise<Array<number | null>> {
  const out: Array<number | null> = new Array<number | null>(texts.length).fill(null);
  const todo = texts.map((t, i) => ({ t, i })).filter((x) => !isBlank(x.t));
  for (const batch of chunks(todo, size)) {
    const scores = await scoreBatch(batch.map((x) => x.t));
    batch.forEach((x, k) => (out[x.i] = scores[k]!));
  }
  return out;
}
