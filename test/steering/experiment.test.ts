// Steering in experiments: a sweep expands into one condition per alpha, the manifest records each intervention,
// alpha 0 reproduces the unsteered condition exactly, and the probe scores of a steered round show the move.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../src/core/backends/embedded';
import { EngineClient } from '../../src/core/engine/client';
import { writeProbeFile } from '../../src/core/probes/load';
import { trainProbe } from '../../src/core/probes/train';
import { parseExperimentYaml } from '../../src/core/protocol';
import { prepareExperiment } from '../../src/core/runner/prepare';
import { roundExtensionsFor } from '../../src/core/runner/round-extensions';
import { startRun } from '../../src/core/runner/run';
import { readRecords } from '../../src/core/runner/store';
import { STORIES_SPEC } from '../probes/helpers';
import { runCli } from '../support/cli';
import type { CausalResult, OverviewResult } from '../../src/core/viewer/protocol';
import { createViewerService } from '../../src/core/viewer/service';

const FIXTURE = path.resolve(__dirname, '../fixtures/steering');
let dir: string;
let backend: EmbeddedBackend;

function experimentYaml(alpha: string): string {
  return [
    'task: mcq',
    'dataset: { path: items.jsonl }',
    'probes: [{ name: dogcat, path: dogcat.probe.json, band: [3, 4] }]',
    'conditions:',
    '  - { name: baseline, kind: baseline, rounds: 2, turns: [{ user: "{context} {question} {choices}", prefill: "The answer is" }] }',
    '  - name: steer',
    '    kind: variant',
    '    rounds: 2',
    '    turns: [{ user: "{context} {question} {choices}", prefill: "The answer is" }]',
    `    intervention: { probe: dogcat, layers: "3-4", alpha: ${alpha} }`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sclab-steer-'));
  const client = await EngineClient.start({ modelSpec: STORIES_SPEC, mode: 'in-process' });
  const t = await trainProbe(client, { data: path.join(FIXTURE, 'dogs.txt'), negative: path.join(FIXTURE, 'cats.txt'), variant: 'contrast', module: 'residual', date: '2026-01-01T00:00:00Z' });
  await client.close();
  await writeProbeFile(path.join(dir, 'dogcat.probe.json'), t.probe);
  const rows = [
    { id: 'q0', context: 'Lily had a pet.', question: 'What did it say?', choices: ['woof', 'meow', 'hello'], answer: 0 },
    { id: 'q1', context: 'Tom saw an animal in the park.', question: 'What was it?', choices: ['a dog', 'a cat', 'a bird'], answer: 1 },
  ];
  writeFileSync(path.join(dir, 'items.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  backend = createEmbeddedBackend({ modelSpec: STORIES_SPEC, mode: 'in-process' });
});
afterAll(async () => {
  await backend?.close();
});

describe('interventions in experiments', () => {
  it('checks the intervention where it is written', () => {
    const bad = parseExperimentYaml(experimentYaml('[1, 1]').replace('probe: dogcat, layers', 'probe: dogs, layers'), path.join(dir, 'bad.sclab.yaml'));
    const messages = bad.diagnostics.map((d) => `${d.line}: ${d.message}`);
    expect(messages).toContain('10: conditions[1].intervention.probe: no probe named "dogs" in this experiment\'s probes (dogcat)');
    expect(messages).toContain('10: conditions[1].intervention.alpha[1]: alpha 1 appears twice in the sweep');
  });

  it('expands a sweep, records it in the manifest, and alpha 0 reproduces the unsteered rounds exactly', async () => {
    const file = path.join(dir, 'sweep.sclab.yaml');
    writeFileSync(file, experimentYaml('[-3, 0, 3]'));
    const prepared = await prepareExperiment({ file });
    expect(prepared.experiment.conditions.map((c) => c.name)).toEqual(['baseline', 'steer.alpha-3', 'steer.alpha0', 'steer.alpha3']);
    const ext = roundExtensionsFor(prepared.experiment, { baseDir: dir, secrets: { get: async () => undefined } });
    const result = await startRun({
      outDir: mkdtempSync(path.join(tmpdir(), 'sclab-steer-out-')),
      ...prepared,
      backend,
      extensions: (d) => ext.build(d),
      settings: { concurrency: 2, requestTimeoutMs: 60_000, cacheDir: null, retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 } },
    });
    expect(result.status).toBe('completed');
    expect(result.manifest.backend.capabilities.steer).toBe(true);
    expect(result.manifest.experiment.conditions.find((c) => c.name === 'steer.alpha3')!.intervention).toEqual({ probe: 'dogcat', layers: '3-4', alpha: 3, ablate: false, positions: 'all' });

    const { records } = await readRecords(result.runDir);
    const at = (condition: string, item: string, round: number) => records.find((r) => r.condition === condition && r.itemId === item && r.round === round)!;
    const band = (condition: string, item: string, round: number) => {
      const p = at(condition, item, round).probes!.dogcat!;
      return (p.cosine[p.layers.indexOf(3)]! + p.cosine[p.layers.indexOf(4)]!) / 2;
    };
    for (const item of ['q0', 'q1']) {
      for (const round of [0, 1]) {
        const base = at('baseline', item, round);
        const zero = at('steer.alpha0', item, round);
        expect(zero.response).toBe(base.response);
        expect(zero.probes).toEqual(base.probes);
        expect(zero.optionScores).toEqual(base.optionScores);
        expect(base.optionScores?.method).toBe('exact');
        // the internals moved along the direction, in the direction of alpha
        expect(band('steer.alpha3', item, round)).toBeGreaterThan(band('baseline', item, round) + 0.05);
        expect(band('steer.alpha-3', item, round)).toBeLessThan(band('baseline', item, round) - 0.05);
      }
    }

    // the dose–response in report --json and in the text report
    const json = await runCli(['report', result.runDir, '--json', '--resamples', '200']);
    expect(json.code).toBe(0);
    const causal = JSON.parse(json.stdout).causal as Array<{ probe: string; points: Array<{ condition: string; alpha: number; probeShift: { estimate: number } }>; verdict: string }>;
    expect(causal).toHaveLength(1);
    expect(causal[0]!.probe).toBe('dogcat');
    expect(causal[0]!.points.map((p) => p.alpha)).toEqual([-3, 0, 3]);
    expect(causal[0]!.points[0]!.probeShift.estimate).toBeLessThan(-0.05);
    expect(causal[0]!.points[1]!.probeShift.estimate).toBe(0);
    expect(causal[0]!.points[2]!.probeShift.estimate).toBeGreaterThan(0.05);
    expect(causal[0]!.verdict.length).toBeGreaterThan(20);
    const text = await runCli(['report', result.runDir, '--resamples', '200']);
    expect(text.stdout).toContain('Causal test: steering along dogcat (band 3–4 cosine)');
    expect(text.stdout).toMatch(/steer\.alpha3 +3 +3-4/);

    // the viewer's Causal page gets the same rows
    const svc = createViewerService({ runDir: result.runDir, analysis: { bootstrap: { resamples: 200 } } });
    const page = await svc.handle({ kind: 'request', id: 1, method: 'causal', params: {} });
    expect(page.ok).toBe(true);
    const r = (page as { result: CausalResult }).result;
    expect(r.available && r.rows[0]!.points.map((p) => p.condition)).toEqual(['steer.alpha-3', 'steer.alpha0', 'steer.alpha3']);
    const overview = await svc.handle({ kind: 'request', id: 2, method: 'overview', params: {} });
    expect((overview as { result: OverviewResult }).result.available.causal).toBe(true);
  }, 120_000);
});
