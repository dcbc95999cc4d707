// The run-time scorer extension: after each generation round, score the response with every configured scorer and
// record {value, scorer, version} under the ref's name. The scored text is the completion alone — what the model
// wrote after the assistant prefill, without the prompt or the prefill (e.g. "Completion:") — as the paper scored
// RealToxicityPrompts continuations. Multiple-choice rounds are not scored.
import type { SecretProvider } from '../backends/backend';
import { SclabError } from '../model/errors';
import type { ScorerRef } from '../model/experiment';
import type { ScorerCard } from '../model/manifest';
import type { ResponseScore } from '../model/record';
import type { RecordExtras, RoundContext, RoundExtension } from '../runner/extensions';
import type { RetryPolicy } from '../runner/retry';
import { createScorer } from './create';
import type { Scorer } from './scorer';

export interface ScorerExtension extends RoundExtension {
  /** ref name → the scorer behind it */
  readonly scorers: ReadonlyArray<{ ref: ScorerRef; scorer: Scorer }>;
  /** what a host shows the user once (e.g. the Perspective shutdown warning), prefixed with the ref's name */
  readonly notes: string[];
  close(): Promise<void>;
}

export async function createScorerExtension(
  refs: ScorerRef[],
  opts: { baseDir: string; secrets: SecretProvider; timeoutMs?: number; fetch?: typeof fetch; retry?: RetryPolicy },
): Promise<ScorerExtension | undefined> {
  if (refs.length === 0) return undefined;
  const names = new Set<string>();
  for (const ref of refs) {
    if (names.has(ref.name)) throw new SclabError('config', `scorer name "${ref.name}" is used twice`);
    names.add(ref.name);
  }
  const built: Array<{ ref: ScorerRef; scorer: Scorer }> = [];
  try {
    for (const ref of refs) built.push({ ref, scorer: await createScorer(ref, opts) });
  } catch (e) {
    await Promise.all(built.map((b) => b.scorer.close()));
    throw e;
  }
  const notes = built.flatMap(({ ref, scorer }) => scorer.notes.map((n) => `scorer "${ref.name}" (${scorer.name}): ${n}`));

  const cards: ScorerCard[] = built.map(({ ref, scorer }) => ({ name: ref.name, scorer: scorer.name, version: scorer.version, ...scorer.about }));

  return {
    name: 'scorers',
    // each scorer's service has a scheduler of its own (createScorer); offline scorers send nothing
    schedulesOwnRequests: true,
    scorers: built,
    scorerCards: cards,
    notes,
    async afterChat(ctx: RoundContext & { response: string }): Promise<RecordExtras> {
      if (ctx.item.kind === 'mcq') return {};
      const scores: Record<string, ResponseScore> = {};
      // sequential: each service has its own limits, and a failure should not leave other requests running
      for (const { ref, scorer } of built) {
        const [value] = await scorer.score([ctx.response], ctx.signal);
        scores[ref.name] = {
          value: value ?? null,
          scorer: scorer.name,
          version: scorer.version,
          ...(value === null || value === undefined ? { error: ctx.response.trim() === '' ? 'empty response: not scored' : 'the scorer returned no score for this text' } : {}),
        };
      }
      return { scores };
    },
    async close() {
      await Promise.all(built.map((b) => b.scorer.close()));
    },
  };
}
