// What the report and the viewer say about a generation run's scorers: the no-scorer message (never read as "no
// items answered"), the scorer card of the built-in scorer, and scores under two keys side by side.
import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/core/analysis/analyze';
import { describeScorerCard, NO_OUTPUT_METRIC, noScorerMessage, scorerNotes } from '../../src/core/analysis/scorerNotes';
import { compareScoreKeys } from '../../src/core/analysis/toxicity';
import { ExperimentSchema } from '../../src/core/model/experiment';
import type { RunManifest, ScorerCard } from '../../src/core/model/manifest';
import { renderHtmlReport } from '../../src/core/report/html';
import { formatSummaryText } from '../../src/core/report/text';
import { overviewFrom, runInfo } from '../../src/core/viewer/pages';
import { genItem, rec } from './fixtures';

const experiment = ExperimentSchema.parse({
  dataset: { path: 'x.jsonl' },
  task: 'generation',
  conditions: [
    { name: 'baseline', kind: 'baseline', turns: [{ user: '{prompt}' }], rounds: 1 },
    { name: 'self-correct', kind: 'self-correct', turns: [{ user: '{prompt}' }], rounds: 2 },
  ],
});
function manifestWith(scorers?: ScorerCard[]): RunManifest {
  return {
    schema: 'sclab.run/1',
    id: 'gen-run',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    toolVersion: '0',
    status: 'completed',
    experiment,
    dataset: { path: '/d/x.jsonl', sha256: '0'.repeat(64), format: 'rtp-jsonl', items: 3 },
    backend: { kind: 'openai', model: 'm', capabilities: { chat: true, optionLogprobs: false, topLogprobs: false, hiddenStates: false, probeScores: false }, notes: [] },
    settings: { concurrency: 1, requestTimeoutMs: 1, maxRetries: 0, cache: false },
    counts: { planned: 9, recorded: 9, errors: 0, cached: 0 },
    ...(scorers ? { scorers } : {}),
    resumes: [],
  };
}
const items = ['p0', 'p1', 'p2'].map(genItem);
const cells: Array<[string, number]> = [
  ['baseline', 0],
  ['self-correct', 0],
  ['self-correct', 1],
];

describe('a generation run without scores', () => {
  const records = items.flatMap((it) => cells.map(([c, r]) => rec(it.id, c, r, { response: ' a long answer' })));
  const summary = analyzeRun(records, items, experiment);

  it('says in the text report, the HTML report and the viewer that no toxicity scorer is configured and how to add one', () => {
    const msg = noScorerMessage('toxicity');
    expect(msg).toMatch(/^no toxicity scorer configured: /);
    expect(msg).toContain('{ name: toxicity, kind: offline }');
    expect(msg).toContain('sclab scorer rescore RUN_DIR --scorer builtin. See docs/scorers.md');
    expect(msg).not.toMatch(/no items answered/);
    const m = manifestWith();
    const text = formatSummaryText(m, summary);
    expect(text).toContain(msg);
    // the superficiality table of such a run says why its output column is empty
    expect(summary.superficiality).toHaveLength(2);
    expect(text).toContain(`Superficiality test (each round against the baseline, paired by item)\n  (${NO_OUTPUT_METRIC})`);
    const html = renderHtmlReport({ manifest: m, summary });
    expect(html).toContain('no toxicity scorer configured: ');
    expect(html).toContain('no toxicity scorer configured, so this test has no output metric');
    const overview = overviewFrom(summary, m, runInfo(m, 'gen-run', 0), false);
    expect(overview.notes).toContain(msg);
  });

  it('is not said of a multiple-choice run, nor of a generation run with scores', () => {
    const mcq = { ...manifestWith(), experiment: { ...experiment, task: 'mcq' as const } };
    expect(scorerNotes(mcq, { key: 'toxicity', hasScores: false })).toEqual([]);
    expect(scorerNotes(manifestWith(), { key: 'toxicity', hasScores: true })).toEqual([]);
  });
});

describe('scorer cards', () => {
  const card: ScorerCard = {
    name: 'toxicity',
    scorer: 'offline',
    version: 'sclab-toxicity@1/logreg-ngrams/abc',
    builtin: true,
    trainingData: [
      { name: 'Jigsaw sample', licence: 'CC0' },
      { name: 'Davidson tweets', licence: 'MIT' },
    ],
    agreement: { reference: 'Perspective in RTP, 1,196 held-out rows', heldOutRows: 1196, spearmanContinuations: 0.7964, spearmanPrompts: 0.821 },
    advice: 'for numbers comparable to the paper use a stronger scorer',
  };

  it('say which scorer, what it was trained on under which licence, its agreement with Perspective, and what is better', () => {
    expect(describeScorerCard(card)).toBe(
      '"toxicity" scored by offline@sclab-toxicity@1/logreg-ngrams/abc (built into sclab: the default when an experiment names no scorer). ' +
        'trained on Jigsaw sample (CC0); Davidson tweets (MIT). ' +
        'agreement with Perspective: Spearman ρ = 0.80 on continuations and 0.82 on prompts (Perspective in RTP, 1,196 held-out rows). ' +
        'for numbers comparable to the paper use a stronger scorer.',
    );
    expect(describeScorerCard({ name: 'toxicity', scorer: 'perspective', version: 'v1alpha1/TOXICITY' })).toBe('"toxicity" scored by perspective@v1alpha1/TOXICITY.');
    const records = items.map((it) => rec(it.id, 'baseline', 0, { response: ' x', scores: { toxicity: { value: 0.2, scorer: 'offline', version: card.version } } }));
    const m = manifestWith([card]);
    const summary = analyzeRun(records, items, experiment);
    expect(formatSummaryText(m, summary)).toContain(describeScorerCard(card));
    expect(overviewFrom(summary, m, runInfo(m, 'gen-run', 0), false).notes).toContain(describeScorerCard(card));
  });
});

describe('scores under two keys (a run re-scored next to its Perspective scores)', () => {
  // worked by hand: Perspective 0.9, 0.5, 0.1 and offline 0.6, 0.7, 0.2 on the baseline; ranks (3, 2, 1) vs (2, 3, 1)
  // → Spearman ρ = 1 − 6·(1 + 1 + 0) / (3·(9 − 1)) = 0.5; mean difference ((−0.3) + 0.2 + 0.1) / 3 = 0
  const persp = [0.9, 0.5, 0.1];
  const offline = [0.6, 0.7, 0.2];
  const records = items.map((it, i) =>
    rec(it.id, 'baseline', 0, {
      response: ' x',
      scores: { toxicity: { value: persp[i]!, scorer: 'perspective', version: 'v1alpha1/TOXICITY' }, 'toxicity-offline': { value: offline[i]!, scorer: 'offline', version: 'v1' } },
    }),
  );

  it('puts the main key first, with means per cell, and Spearman ρ and the mean difference against it', () => {
    const rows = compareScoreKeys(records, 'toxicity')!;
    expect(rows.map((r) => r.key)).toEqual(['toxicity', 'toxicity-offline']);
    expect(rows[0]!.mean).toBeCloseTo(0.5, 12);
    expect(rows[0]!.versusMain).toBeUndefined();
    expect(rows[1]!.scorers).toEqual(['offline@v1']);
    expect(rows[1]!.mean).toBeCloseTo(0.5, 12);
    expect(rows[1]!.cells).toEqual([{ condition: 'baseline', round: 0, n: 3, mean: expect.closeTo(0.5, 12) }]);
    expect(rows[1]!.versusMain!.n).toBe(3);
    expect(rows[1]!.versusMain!.spearman).toBeCloseTo(0.5, 12);
    expect(rows[1]!.versusMain!.meanDifference).toBeCloseTo(0, 12);
    expect(compareScoreKeys(records.map((r) => ({ ...r, scores: { toxicity: r.scores!.toxicity! } })), 'toxicity')).toBeNull();
  });

  it('shows them side by side in the reports and the viewer overview', () => {
    const summary = analyzeRun(records, items, experiment);
    expect(summary.scoreKeys).toHaveLength(2);
    const m = manifestWith();
    const text = formatSummaryText(m, summary);
    expect(text).toContain('Scores side by side');
    expect(text).toMatch(/toxicity-offline\s+offline@v1\s+3\s+0\.500\s+0\.500 \(n 3\)/);
    expect(renderHtmlReport({ manifest: m, summary })).toContain('<h2>Scores side by side</h2>');
    expect(overviewFrom(summary, m, runInfo(m, 'gen-run', 0), false).scoreKeys).toEqual(summary.scoreKeys);
  });
});
