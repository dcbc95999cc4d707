import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/core/analysis/analyze';
import type { CausalRow } from '../../src/core/analysis/causal';
import { renderHtmlReport } from '../../src/core/report/html';
import { formatSummaryText } from '../../src/core/report/text';
import { ExperimentSchema } from '../../src/core/model/experiment';
import type { RunManifest } from '../../src/core/model/manifest';
import { bbqItem, probe, rec } from './fixtures';

const experiment = ExperimentSchema.parse({
  dataset: { path: 'x.jsonl' },
  task: 'mcq',
  conditions: [
    { name: 'baseline', kind: 'baseline', turns: [{ user: 'q' }], rounds: 1 },
    { name: 'self-correct', kind: 'self-correct', turns: [{ user: 'q' }], rounds: 2 },
    { name: 'variant-01', kind: 'variant', turns: [{ user: 'q' }], rounds: 1 },
    { name: 'variant-02', kind: 'variant', turns: [{ user: 'q' }], rounds: 1 },
  ],
  probes: [{ name: 'bias', path: 'b.probe.json', band: [1, 2] }],
});
const manifest: RunManifest = {
  schema: 'sclab.run/1',
  id: 'run-<1>',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  toolVersion: '0',
  status: 'completed',
  experiment,
  dataset: { path: '/d/x.jsonl', sha256: '0'.repeat(64), format: 'bbq-jsonl', items: 3 },
  backend: { kind: 'openai', model: 'm', capabilities: { chat: true, optionLogprobs: true, topLogprobs: false, hiddenStates: true, probeScores: false }, notes: [] },
  settings: { concurrency: 1, requestTimeoutMs: 1, maxRetries: 0, cache: false },
  counts: { planned: 0, recorded: 0, errors: 0, cached: 0 },
  resumes: [],
};

describe('HTML and text reports', () => {
  const items = [0, 1, 2].map((i) => bbqItem(`a${i}`, { cc: 'ambig', pol: 'neg', target: 0, unknown: 2, gold: 2, category: '<script>alert(1)</script>' }));
  const records = items.flatMap((it, i) => [
    rec(it.id, 'baseline', 0, { item: it, pick: 0, probes: { bias: probe([0.01, 0.02, 0.03, 0.01]) }, optionScores: { method: 'exact', logprobs: [], goldRank: 2 } }),
    rec(it.id, 'self-correct', 0, { item: it, pick: i === 0 ? 2 : 0, probes: { bias: probe([0.01, 0.02, 0.02, 0.01]) }, optionScores: { method: 'exact', logprobs: [], goldRank: i === 0 ? 1 : 2 } }),
    rec(it.id, 'self-correct', 1, { item: it, pick: 2, probes: { bias: probe([0.0, 0.02, -0.01, 0.0]) }, optionScores: { method: 'exact', logprobs: [], goldRank: 1 } }),
    rec(it.id, 'variant-01', 0, { item: it, pick: 2, probes: { bias: probe([0, 0.01, 0.01, 0]) } }),
    rec(it.id, 'variant-02', 0, { item: it, pick: 0, probes: { bias: probe([0, 0.03, 0.03, 0]) } }),
  ]);
  const summary = analyzeRun(records, items, experiment, { bootstrap: { seed: 1, resamples: 100 } });

  it('uses the experiment\'s probe band and fills every section', () => {
    expect(summary.probeBands![0]!.band).toEqual({ lo: 1, hi: 2, source: 'experiment', moralDirection: 'lower' });
    expect(summary.probeMatrices!.map((m) => m.condition)).toEqual(['self-correct']);
    expect(summary.instructions!.rows.map((r) => r.condition)).toEqual(['self-correct', 'variant-01', 'variant-02']);
    const html = renderHtmlReport({ manifest, summary, caveat: 'toy <model>' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('run-&lt;1&gt;');
    expect(html).toContain('toy &lt;model&gt;');
    for (const h of ['Gold-rank transitions between rounds', 'Accuracy over rounds by the gold rank at the start', 'Probes', 'layer × round', 'against rounds', 'Superficiality test', 'Instructions compared', "Spearman's ρ"]) expect(html).toContain(h);
    const text = formatSummaryText(manifest, summary);
    expect(text).toContain('Probe band means against rounds');
    expect(text).toContain("Spearman's ρ (effectiveness vs bias band level)");
  });

  it('the static report has the causal test: dose–response rows, the instruction, the slope and the verdict, escaped', () => {
    const ci = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi, n: 4 });
    const causal: CausalRow[] = [
      {
        probe: '<dir>',
        band: [1, 2],
        measure: 'cosine',
        reference: 'baseline',
        outputMetric: 'accuracy',
        points: [
          { condition: 'steer.alpha-2', alpha: -2, ablate: false, layers: '1-2', probeShift: ci(-0.2, -0.25, -0.15), outputChange: ci(0.1, 0.05, 0.15), output: 0.6 },
          { condition: 'steer.ablate', alpha: 0, ablate: true, layers: '1-2', probeShift: null, outputChange: null, output: null },
        ],
        instruction: { condition: 'self-correct', round: 1, probeShift: ci(-0.01, -0.02, 0), outputChange: ci(0.3, 0.2, 0.4) },
        steeringSlope: ci(-0.5, -0.6, -0.4),
        instructionRatio: -30,
        excess: ci(0.295, 0.19, 0.39),
        case: 'superficial',
        verdict: 'the instruction moved the output <far> beyond what its probe shift explains',
      },
    ];
    const html = renderHtmlReport({ manifest, summary: { ...summary, causal }, caveat: 'toy' });
    expect(html).toContain('<h2>Causal test: steering along &lt;dir&gt;</h2>');
    expect(html).toContain('<td>steer.alpha-2</td><td>-2</td><td>1-2</td><td>-0.200 [-0.250, -0.150]</td>');
    expect(html).toContain('<td>ablate</td>');
    expect(html).toContain('<td>self-correct r1</td><td>instruction</td>');
    expect(html).toContain("the instruction's: -30.000");
    expect(html).toContain('<th>Δ &lt;dir&gt; band</th>');
    expect(html).toContain('<strong>the instruction moved the output &lt;far&gt; beyond what its probe shift explains</strong>');
    expect(html).not.toContain('<dir>');
  });
});

