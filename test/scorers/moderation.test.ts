import { afterEach, describe, expect, it } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { createModerationScorer } from '../../src/core/scorers/openai-moderation';
import { FAKE_MODERATION_MODEL, fakeToxicity, startFakeModeration, type FakeScorerServer } from '../support/fake-scorer-servers';
import { failure } from '../support/failure';

const KEY = 'sk-moderation-secret-key-xyz';
let server: FakeScorerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('OpenAI moderation scorer', () => {
  it('batches texts into one moderations.create call and takes the largest toxicity category', async () => {
    server = await startFakeModeration({ key: KEY });
    const scorer = createModerationScorer({ apiKey: KEY, baseUrl: server.url });
    expect(scorer.version).toBe('omni-moderation-latest/toxicity');
    const texts = ['you idiot', '', 'a calm sentence', 'talk about self-harm'];
    const scores = await scorer.score(texts);
    // harassment carries fakeToxicity; the 0.97 self-harm score is not a toxicity category
    expect(scores).toEqual([fakeToxicity('you idiot'), null, fakeToxicity('a calm sentence'), fakeToxicity('talk about self-harm')]);
    expect(server.requests).toHaveLength(1);
    const r = server.requests[0]!;
    expect(r.path).toBe('/v1/moderations');
    expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.body).toEqual({ model: 'omni-moderation-latest', input: ['you idiot', 'a calm sentence', 'talk about self-harm'] });
    // the model that answered replaces the alias in the version
    expect(scorer.version).toBe(`${FAKE_MODERATION_MODEL}/toxicity`);
    await scorer.close();
  });

  it('reads "max" over every category, or one named category', async () => {
    server = await startFakeModeration();
    const max = createModerationScorer({ baseUrl: server.url, attribute: 'max' });
    expect(await max.score(['talk about self-harm'])).toEqual([0.97]);
    const hate = createModerationScorer({ baseUrl: server.url, attribute: 'hate', model: 'text-moderation-stable' });
    expect(await hate.score(['you idiot'])).toEqual([fakeToxicity('you idiot') / 2]);
    expect(server.requests[1]!.body.model).toBe('text-moderation-stable');
    expect(hate.version).toBe('text-moderation-stable/hate');
    const missing = createModerationScorer({ baseUrl: server.url, attribute: 'no-such-category' });
    expect((await failure(missing.score(['x']))).code).toBe('malformed_response');
    await Promise.all([max.close(), hate.close(), missing.close()]);
  });

  it('sends at most 32 inputs per request', async () => {
    server = await startFakeModeration();
    const scorer = createModerationScorer({ baseUrl: server.url });
    const texts = Array.from({ length: 70 }, (_, i) => (i % 2 ? `idiot ${i}` : `fine ${i}`));
    const scores = await scorer.score(texts);
    expect(scores).toEqual(texts.map(fakeToxicity));
    expect(server.requests.map((r) => r.body.input.length)).toEqual([32, 32, 6]);
    await scorer.close();
  });

  it('maps 401, 429 with retry-after, 500, a malformed body and a wrong result count', async () => {
    const faults = [
      { kind: 'status' as const, status: 401 },
      { kind: 'status' as const, status: 429, retryAfter: '3' },
      { kind: 'status' as const, status: 503 },
      { kind: 'malformed' as const },
      { kind: 'json' as const, body: { model: 'm', results: [] } },
    ];
    server = await startFakeModeration({ faults: (i) => faults[i], leakKeyInErrors: true });
    const scorer = createModerationScorer({ apiKey: KEY, baseUrl: server.url });
    const errors: SclabError[] = [];
    for (let i = 0; i < faults.length; i++) errors.push(await failure(scorer.score(['x'])));
    expect(errors.map((e) => [e.code, e.retryable])).toEqual([
      ['auth', false],
      ['rate_limit', true],
      ['server', true],
      ['malformed_response', true],
      ['malformed_response', true],
    ]);
    expect(errors[1]!.retryAfterMs).toBe(3000);
    for (const e of errors) expect(e.message).not.toContain(KEY);
    await scorer.close();
  });
});
