import { afterEach, describe, expect, it } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { createPerspectiveScorer, PERSPECTIVE_SHUTDOWN_NOTE } from '../../src/core/scorers/perspective';
import { fakeToxicity, startFakePerspective, type FakeScorerServer } from '../support/fake-scorer-servers';
import { failure } from '../support/failure';

const KEY = 'AIzaSy-secret-perspective-key-123';
let server: FakeScorerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('Perspective scorer', () => {
  it('sends one analyze request per text with the key in the query and reads the summary score', async () => {
    server = await startFakePerspective({ key: KEY });
    const scorer = createPerspectiveScorer({ apiKey: KEY, baseUrl: server.url });
    const texts = ['you idiot', 'a kind word', '   ', 'stupid stupid moron'];
    const scores = await scorer.score(texts);
    expect(scores).toEqual([fakeToxicity(texts[0]!), fakeToxicity(texts[1]!), null, fakeToxicity(texts[3]!)]);
    expect(server.requests).toHaveLength(3); // the blank text is not sent
    const r = server.requests[0]!;
    expect(r.path).toBe('/v1alpha1/comments:analyze');
    expect(r.query.get('key')).toBe(KEY);
    expect(r.body).toEqual({ comment: { text: 'you idiot' }, requestedAttributes: { TOXICITY: {} }, languages: ['en'], doNotStore: true });
    expect(scorer.name).toBe('perspective');
    expect(scorer.version).toBe('v1alpha1/TOXICITY');
    expect(scorer.notes).toEqual([PERSPECTIVE_SHUTDOWN_NOTE]);
    expect(PERSPECTIVE_SHUTDOWN_NOTE).toMatch(/end of 2026/);
    await scorer.close();
  });

  it('asks for another attribute when configured', async () => {
    server = await startFakePerspective();
    const scorer = createPerspectiveScorer({ apiKey: KEY, baseUrl: server.url, attribute: 'insult' });
    expect(await scorer.score(['you idiot'])).toEqual([fakeToxicity('you idiot') / 2]);
    expect(server.requests[0]!.body.requestedAttributes).toEqual({ INSULT: {} });
    expect(scorer.version).toBe('v1alpha1/INSULT');
    await scorer.close();
  });

  it('maps a refused key to auth without quoting the server or the key', async () => {
    server = await startFakePerspective({ key: 'the-right-key', leakKeyInErrors: true });
    const scorer = createPerspectiveScorer({ apiKey: KEY, baseUrl: server.url });
    const e = await failure(scorer.score(['hello']));
    expect(e.code).toBe('auth');
    expect(e.status).toBe(403);
    expect(e.retryable).toBe(false);
    expect(e.message).not.toContain(KEY);
    expect(e.message).toContain('/comments:analyze');
    await scorer.close();
  });

  it('maps 401, 429 with retry-after, 500 and a malformed answer, never showing the key', async () => {
    const faults = [
      { kind: 'status' as const, status: 401 },
      { kind: 'status' as const, status: 429, retryAfter: '7' },
      { kind: 'status' as const, status: 500 },
      { kind: 'malformed' as const },
      { kind: 'json' as const, body: { attributeScores: {} } },
      { kind: 'reset' as const },
      { kind: 'status' as const, status: 400 },
    ];
    server = await startFakePerspective({ faults: (i) => faults[i], leakKeyInErrors: true });
    const scorer = createPerspectiveScorer({ apiKey: KEY, baseUrl: server.url });
    const errors: SclabError[] = [];
    for (let i = 0; i < faults.length; i++) errors.push(await failure(scorer.score(['x'])));
    expect(errors.map((e) => [e.code, e.retryable])).toEqual([
      ['auth', false],
      ['rate_limit', true],
      ['server', true],
      ['malformed_response', true],
      ['malformed_response', true],
      ['network', true],
      ['bad_request', false],
    ]);
    expect(errors[1]!.retryAfterMs).toBe(7000);
    for (const e of errors) {
      expect(e.message).not.toContain(KEY);
      expect(JSON.stringify(e)).not.toContain(KEY);
    }
    // the 500 body quoted the key: it is redacted, not dropped silently
    expect(errors[2]!.message).toContain('[redacted]');
    await scorer.close();
  });

  it('refuses a missing key and a malformed attribute as config errors', () => {
    expect(() => createPerspectiveScorer({ apiKey: '' })).toThrow(/no API key/);
    expect(() => createPerspectiveScorer({ apiKey: KEY, attribute: 'TOX-ICITY' })).toThrow(/attribute/);
  });

  it('stops on cancellation', async () => {
    server = await startFakePerspective();
    const scorer = createPerspectiveScorer({ apiKey: KEY, baseUrl: server.url });
    const ac = new AbortController();
    ac.abort();
    const e = await failure(scorer.score(['hello'], ac.signal));
    expect(e.code).toBe('cancelled');
    await scorer.close();
  });
});
