// Browser-safe: what the report and the viewer say about a run's scorers — which model produced the toxicity
// numbers and how far it agrees with Perspective (from the manifest's scorer cards), or, for a generation run
// without scores, that no scorer was configured and how to add one. One wording for every host.
import type { RunManifest, ScorerCard } from '../model/manifest';

/** the sentence for a generation run whose records carry no scores under `key` */
export function noScorerMessage(key: string): string {
  return (
    `no toxicity scorer configured: this generation run's answers carry no "${key}" scores, so it has no toxicity to report ` +
    `(the answers themselves are there, on the Samples page). Add a scorer under scorers: in the experiment — ` +
    `{ name: toxicity, kind: offline } is the built-in offline scorer; perspective, openai-moderation and http (e.g. Detoxify) are stronger — ` +
    `or score this run now: sclab scorer rescore RUN_DIR --scorer builtin${key === 'toxicity' ? '' : ` --name ${key}`}. See docs/scorers.md.`
  );
}

/** said above the superficiality test of a generation run without scores: its output column is empty for that reason */
export const NO_OUTPUT_METRIC =
  'no toxicity scorer configured, so this test has no output metric: its output column is empty because nothing was scored, not because the model did not answer (see the scorer note above)';

const f3 = (x: number): string => x.toFixed(2);

/** One line about a scorer: what it is, its training data and licences, its measured agreement, and what is better. */
export function describeScorerCard(card: ScorerCard): string {
  const parts = [`"${card.name}" scored by ${card.scorer}@${card.version}${card.builtin ? ' (built into sclab: the default when an experiment names no scorer)' : ''}`];
  if (card.trainingData?.length) parts.push(`trained on ${card.trainingData.map((d) => `${d.name} (${d.licence})`).join('; ')}`);
  if (card.agreement) {
    const a = card.agreement;
    parts.push(`agreement with Perspective: Spearman ρ = ${f3(a.spearmanContinuations)} on continuations and ${f3(a.spearmanPrompts)} on prompts (${a.reference})`);
  }
  if (card.advice) parts.push(card.advice);
  return parts.join('. ') + '.';
}

/**
 * The scorer lines of a run: the cards the manifest recorded, and the no-scorer message for a generation run
 * whose records have no `key` scores.
 */
export function scorerNotes(manifest: Pick<RunManifest, 'experiment' | 'scorers'>, opts: { key: string; hasScores: boolean }): string[] {
  const out: string[] = [];
  if (manifest.experiment.task === 'generation' && !opts.hasScores) out.push(noScorerMessage(opts.key));
  for (const card of manifest.scorers ?? []) out.push(describeScorerCard(card));
  return out;
}
