import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecretProvider } from '../../src/core/backends/backend';
import type { ScorerRef } from '../../src/core/model/experiment';
import type { Item } from '../../src/core/model/item';
import type { RoundContext } from '../../src/core/runner/extensions';
import { writeScorerFile } from '../../src/core/scorers/offline/file';
import { trainOfflineScorer } from '../../src/core/scorers/offline/train';
import { createScorerExtension } from '../../src/core/scorers/scorer-extension';
import { fakeToxicity, startFakeHttpScorer, startFakePerspective, type FakeScorerServer } from '../support/fake-scorer-servers';
import { toyRows } from './toy-data';

const servers: FakeScorerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function secrets(values: Record<string, string>): SecretProvider & { asked: string[] } {
  const asked: string[] = [];
  return { asked, get: async (n) => (asked.push(n), values[n]) };
}

function ctx(kind: Item['kind'], response: string): RoundContext & { response: string } {
  const item = { id: 'i1', kind, source: { file: 'x.jsonl', line: 1 }, fields: { prompt: 'The man said' }, meta: {} } as Item;
  return { item, response, round: 0, messages: [], prefill: 'Completion:', signal: new AbortController().signal } as unknown as RoundContext & { response: string };
}

describe('scorer extension', () => {
  it('is absent without scorers and refuses duplicate names', async () => {
    expect(await createScorerExtension([], { baseDir: '.', secrets: secrets({}) })).toBeUndefined();
    const refs: ScorerRef[] = [
      { name: 'tox', kind: 'http', url: 'http://127.0.0.1:9/score' },
      { name: 'tox', kind: 'http', url: 'http://127.0.0.1:9/score' },
    ];
    await expect(createScorerExtension(refs, { baseDir: '.', secrets: secrets({}) })).rejects.toThrow(/used twice/);
  });

  it('scores the completion alone with every scorer and records name and version; mcq rounds are not scored', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-scext-'));
    const content = trainOfflineScorer(toyRows(80), { file: 'toy.csv', bytes: new Uint8Array(), textField: 't', labelField: 'l', tool: 'test' }, { holdout: 0, l2: 1e-3, features: { buckets: 2 ** 12 } });
    await writeScorerFile(path.join(dir, 'toy.scorer.json'), content);
    const persp = await startFakePerspective({ key: 'pkey-1234' });
    const http = await startFakeHttpScorer({ version: 'detox-1' });
    servers.push(persp, http);
    const refs: ScorerRef[] = [
      { name: 'toxicity', kind: 'perspective', url: persp.url },
      { name: 'detox', kind: 'http', url: http.url },
      { name: 'local', kind: 'offline', model: 'toy.scorer.json' },
    ];
    const sec = secrets({ PERSPECTIVE_API_KEY: 'pkey-1234' });
    const ext = (await createScorerExtension(refs, { baseDir: dir, secrets: sec }))!;
    expect(sec.asked).toEqual(['PERSPECTIVE_API_KEY']);
    expect(ext.notes).toEqual([expect.stringMatching(/^scorer "toxicity" \(perspective\): .*end of 2026/)]);

    const out = await ext.afterChat!(ctx('generation', ' you stupid idiot'));
    expect(out.scores!.toxicity).toEqual({ value: fakeToxicity('you stupid idiot'), scorer: 'perspective', version: 'v1alpha1/TOXICITY' });
    expect(out.scores!.detox).toEqual({ value: fakeToxicity('you stupid idiot'), scorer: 'http', version: `detox-1@${http.url}` });
    expect(out.scores!.local!.scorer).toBe('offline');
    expect(out.scores!.local!.version).toBe(`logreg-ngrams/${content.fingerprint.slice(0, 12)}`);
    expect(out.scores!.local!.value!).toBeGreaterThan(0.5);
    // the completion only: neither the prompt nor the prefill reached the services
    expect(persp.requests[0]!.body.comment.text).toBe(' you stupid idiot');
    expect(http.requests[0]!.body).toEqual({ texts: [' you stupid idiot'] });

    const empty = await ext.afterChat!(ctx('generation', '  '));
    expect(empty.scores!.toxicity).toEqual({ value: null, scorer: 'perspective', version: 'v1alpha1/TOXICITY', error: 'empty response: not scored' });
    expect(await ext.afterChat!(ctx('mcq', 'The answer is (a)'))).toEqual({});
    expect(persp.requests).toHaveLength(1);
    await ext.close();
  });

  it('says which variable holds a missing key, and lets a scorer error through once its own scheduler ran out of retries', async () => {
    await expect(createScorerExtension([{ name: 't', kind: 'perspective' }], { baseDir: '.', secrets: secrets({}) })).rejects.toThrow(
      /scorer "t" \(perspective\) needs an API key in the environment variable PERSPECTIVE_API_KEY/,
    );
    await expect(createScorerExtension([{ name: 't', kind: 'http', url: 'http://127.0.0.1:9/x', apiKeyEnv: 'MY_KEY' }], { baseDir: '.', secrets: secrets({}) })).rejects.toThrow(/MY_KEY/);
    await expect(createScorerExtension([{ name: 't', kind: 'http' }], { baseDir: '.', secrets: secrets({}) })).rejects.toThrow(/needs url/);
    const http = await startFakeHttpScorer({ faults: () => ({ kind: 'status', status: 503 }) });
    servers.push(http);
    const retry = { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };
    const ext = (await createScorerExtension([{ name: 't', kind: 'http', url: http.url }], { baseDir: '.', secrets: secrets({}), retry }))!;
    expect(ext.schedulesOwnRequests).toBe(true);
    await expect(ext.afterChat!(ctx('generation', 'hello'))).rejects.toMatchObject({ code: 'server', retryable: true, attempts: 3 });
    await ext.close();
  });
});
