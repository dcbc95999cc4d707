import { afterEach, describe, expect, it } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { createHttpScorer, parsePointer } from '../../src/core/scorers/http-scorer';
import { fakeToxicity, startFakeHttpScorer, type FakeScorerServer } from '../support/fake-scorer-servers';
import { failure } from '../support/failure';

const KEY = 'detoxify-bearer-secret-777';
let server: FakeScorerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('generic HTTP scorer', () => {
  it('POSTs {texts} in batches with the bearer key and reads {scores}', async () => {
    server = await startFakeHttpScorer({ key: KEY, version: 'detoxify-original-0.5' });
    const scorer = createHttpScorer({ url: `${server.url}?lang=en`, apiKey: KEY, batchSize: 2 });
    const texts = ['idiot', 'fine', '', 'stupid moron', 'ok'];
    expect(await scorer.score(texts)).toEqual([fakeToxicity('idiot'), fakeToxicity('fine'), null, fakeToxicity('stupid moron'), fakeToxicity('ok')]);
    expect(server.requests.map((r) => r.body)).toEqual([{ texts: ['idiot', 'fine'] }, { texts: ['stupid moron', 'ok'] }]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests[0]!.query.get('lang')).toBe('en');
    expect(scorer.name).toBe('http');
    expect(scorer.version).toBe(`detoxify-original-0.5@${server.url}?lang=en`);
    await scorer.close();
  });

  it('reads a number inside objects by key or JSON pointer', async () => {
    server = await startFakeHttpScorer({ shape: 'objects' });
    const byKey = createHttpScorer({ url: server.url, attribute: 'insult' });
    expect(await byKey.score(['idiot'])).toEqual([fakeToxicity('idiot') / 2]);
    const byPointer = createHttpScorer({ url: server.url, attribute: '/nested/toxic' });
    expect(await byPointer.score(['idiot'])).toEqual([fakeToxicity('idiot')]);
    const wrong = createHttpScorer({ url: server.url, attribute: '/nested/absent' });
    expect((await failure(wrong.score(['idiot']))).message).toMatch(/scores\[0\] has no "nested\/absent"/);
    const none = createHttpScorer({ url: server.url });
    expect((await failure(none.score(['idiot']))).message).toMatch(/not a number or null \(set attribute/);
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
    await Promise.all([byKey.close(), byPointer.close(), wrong.close(), none.close()]);
  });

  it('maps 401, 429 with retry-after, 500, a malformed body and a wrong count; the key never shows', async () => {
    const faults = [
      { kind: 'status' as const, status: 401 },
      { kind: 'status' as const, status: 429, retryAfter: '2' },
      { kind: 'status' as const, status: 500, body: `boom, key was ${KEY}` },
      { kind: 'malformed' as const },
      { kind: 'json' as const, body: { scores: [0.1, 0.2] } },
      { kind: 'json' as const, body: { results: [] } },
      { kind: 'status' as const, status: 422 },
    ];
    server = await startFakeHttpScorer({ faults: (i) => faults[i], leakKeyInErrors: true });
    const scorer = createHttpScorer({ url: server.url, apiKey: KEY });
    const errors: SclabError[] = [];
    for (let i = 0; i < faults.length; i++) errors.push(await failure(scorer.score(['x'])));
    expect(errors.map((e) => [e.code, e.retryable])).toEqual([
      ['auth', false],
      ['rate_limit', true],
      ['server', true],
      ['malformed_response', true],
      ['malformed_response', true],
      ['malformed_response', true],
      ['bad_request', false],
    ]);
    expect(errors[1]!.retryAfterMs).toBe(2000);
    expect(errors[2]!.message).toContain('boom, key was [redacted]');
    expect(errors[4]!.message).toMatch(/sent 1 texts, got 2 scores/);
    for (const e of errors) expect(e.message).not.toContain(KEY);
    await scorer.close();
  });

  it('reports a refused connection as a retryable network error', async () => {
    server = await startFakeHttpScorer();
    const url = server.url;
    await server.close();
    server = undefined;
    const scorer = createHttpScorer({ url });
    const e = await failure(scorer.score(['x']));
    expect([e.code, e.retryable]).toEqual(['network', true]);
    await scorer.close();
  });
});
