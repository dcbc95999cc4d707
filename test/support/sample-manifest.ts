import type { RunManifest } from '../../src/core/model/manifest';
import { ExperimentSchema } from '../../src/core/model/experiment';

export function sampleManifest(id = 'r1'): RunManifest {
  return {
    schema: 'sclab.run/1',
    id,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    toolVersion: '0.1.0',
    status: 'running',
    experiment: ExperimentSchema.parse({
      dataset: { path: 'x.jsonl' },
      task: 'mcq',
      conditions: [{ name: 'baseline', kind: 'baseline', turns: [{ user: '{question}' }], rounds: 1 }],
    }),
    dataset: { path: '/x.jsonl', sha256: 'ab', format: 'generic-jsonl', items: 1 },
    backend: { kind: 'openai', model: 'm', capabilities: { chat: true, optionLogprobs: false, topLogprobs: false, hiddenStates: false, probeScores: false }, notes: [] },
    settings: { concurrency: 1, requestTimeoutMs: 1000, maxRetries: 1, cache: false },
    counts: { planned: 1, recorded: 0, errors: 0, cached: 0 },
    resumes: [],
  };
}
