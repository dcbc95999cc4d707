// The sidecar backend: `sclab serve` in both roles (sidecar and OpenAI-compatible generation server), compared
// with the embedded backend on the same model; and a generation server that serves another model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../src/core/backends/embedded';
import { createSidecarBackend } from '../../src/core/backends/sidecar';
import { parseProbe } from '../../src/core/probes/probe';
import { scoreHiddenStates } from '../../src/core/probes/score';
import { serveEngine } from '../../src/core/sidecar/serve-engine';
import type { SidecarServer } from '../../src/core/sidecar/server';
import { startFakeOpenAIServer } from '../support/fake-openai-server';
import { syntheticProbe } from './conformance';
import { STORIES_SPEC } from './fixtures';

let server: SidecarServer;
let embedded: EmbeddedBackend;
const TOKEN = 'sidecar-secret-token';

beforeAll(async () => {
  server = await serveEngine({ modelSpec: STORIES_SPEC, mode: 'in-process', token: TOKEN });
  embedded = createEmbeddedBackend({ modelSpec: STORIES_SPEC, mode: 'in-process' });
});
afterAll(async () => {
  await embedded.close();
  await server.close();
});

const messages = [{ role: 'user' as const, content: 'Is it kind to share toys? (a) yes (b) no' }];

describe('sidecar backend', () => {
  it('steers through the sidecar (POST /v1/generate, /v1/loglikelihood, /v1/hidden_states) exactly as the embedded engine does', async () => {
    const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: `${server.url}/v1`, apiKey: TOKEN, requestTimeoutMs: 30_000 });
    try {
      await b.connect();
      const direction = Array.from({ length: 64 }, (_, j) => Math.cos(0.7 * j));
      const history = [...messages, { role: 'assistant' as const, content: '(a)' }, { role: 'user' as const, content: 'Are you sure?' }];
      for (const steer of [
        { intervention: { mode: 'add' as const, alpha: 6, layers: [{ layer: 3, direction }] }, positions: 'all' as const },
        { intervention: { mode: 'ablate' as const, alpha: 0, layers: [{ layer: 2, direction }, { layer: 4, direction }] }, positions: 'input' as const },
      ]) {
        const decoding = { temperature: 0, topP: 1, maxTokens: 16, stop: [], topLogprobs: 0 };
        const viaSidecar = await b.chat({ messages: history, prefill: 'The answer is', decoding, steer });
        const local = await embedded.chat({ messages: history, prefill: 'The answer is', decoding, steer });
        const plain = await embedded.chat({ messages: history, prefill: 'The answer is', decoding });
        expect(viaSidecar.text).toBe(local.text);
        expect(local.text).not.toBe(plain.text);
        const o1 = await b.scoreOptions!({ messages: history, prefill: 'The answer is', continuations: [' (a)', ' (b)'], steer });
        const o2 = await embedded.scoreOptions!({ messages: history, prefill: 'The answer is', continuations: [' (a)', ' (b)'], steer });
        o1.logprobs.forEach((x, i) => expect(x).toBeCloseTo(o2.logprobs[i]!, 4));
        const h1 = await b.hiddenStates!({ messages: history, prefill: '', position: 'last', module: 'residual', layers: [4], steer });
        const h2 = await embedded.hiddenStates({ messages: history, prefill: '', position: 'last', module: 'residual', layers: [4], steer });
        // equal up to float rounding: the two engines' prefix caches split the prefill differently
        h1.vectors[0]!.forEach((x, j) => expect(Math.abs(x - h2.vectors[0]![j]!)).toBeLessThan(1e-4));
      }
    } finally {
      await b.close();
    }
  });

  it('connects to a sidecar plus a generation server of the same model: every capability, the identity, both in the notes', async () => {
    const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: `${server.url}/v1`, apiKey: TOKEN, requestTimeoutMs: 30_000 });
    try {
      const d = await b.connect();
      expect(d.kind).toBe('sidecar');
      expect(d.model).toBe('stories260K');
      expect(d.capabilities).toEqual({ chat: true, optionLogprobs: true, topLogprobs: true, labelLogprobs: true, hiddenStates: true, probeScores: true, steer: true });
      expect(d.identity).toEqual(await embedded.identity());
      const notes = d.notes.join('\n');
      expect(notes).toContain(`sidecar ${server.url}: sclab serve`);
      expect(notes).toContain('lists "stories260K", the sidecar\'s model');
      expect(notes).not.toContain(TOKEN);

      const req = { messages, prefill: 'The answer is', position: 'last' as const, module: 'residual' as const };
      const [a, e] = [await b.hiddenStates(req), await embedded.hiddenStates(req)];
      expect(a.layers).toEqual(e.layers);
      a.vectors.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(e.vectors[i]!)));
      const mlp = await b.hiddenStates({ ...req, module: 'mlp', layers: [2], position: 'mean' });
      expect(Array.from(mlp.vectors[0]!)).toEqual(Array.from((await embedded.hiddenStates({ ...req, module: 'mlp', layers: [2], position: 'mean' })).vectors[0]!));

      const decoding = { temperature: 0, topP: 1, maxTokens: 8, stop: [], topLogprobs: 2 };
      expect((await b.chat({ messages, prefill: 'Once', decoding })).text).toBe((await embedded.chat({ messages, prefill: 'Once', decoding })).text);
    } finally {
      await b.close();
    }
  });

  it('probe scores from the sidecar equal the probes module on the embedded engine\'s hidden states', async () => {
    const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: `${server.url}/v1`, apiKey: TOKEN, requestTimeoutMs: 30_000 });
    try {
      await b.connect();
      const info = server.info;
      const layers = [0, 2, info.n_layers];
      const probe = syntheticProbe(info, layers, (l) => Array.from({ length: info.d_model }, (_, j) => Math.cos(j * 1.3 + l)));
      const r = await b.probeScores({ messages, prefill: 'The answer is', probes: [{ name: 'kind', probe }] });
      const local = parseProbe(probe, 'local', await embedded.identity());
      const h = await embedded.hiddenStates({ messages, prefill: 'The answer is', position: 'last', module: 'residual', layers });
      const want = scoreHiddenStates(local, new Map(h.layers.map((l, i) => [l, h.vectors[i]!])));
      const got = r.scores[0]!;
      expect(got.probe).toBe('kind');
      expect(got.layer_ids).toEqual(want.layers);
      got.cosine.forEach((x, i) => expect(x).toBeCloseTo(want.cosine[i]!, 6));
      got.probability!.forEach((x, i) => expect(x).toBeCloseTo(want.probability![i]!, 6));
    } finally {
      await b.close();
    }
  });

  it('scores options through the sidecar when the generation server has no prompt log-probabilities', async () => {
    const fake = await startFakeOpenAIServer({ model: 'stories260K', supportsEcho: false });
    const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: fake.url, requestTimeoutMs: 30_000 });
    try {
      const d = await b.connect();
      expect(d.capabilities.optionLogprobs).toBe(true);
      expect(d.notes.join('\n')).toContain('option log-likelihoods: from the sidecar');
      const req = { messages, prefill: 'The answer is', continuations: [' (a)', ' (b)'] };
      const [a, e] = [await b.scoreOptions!(req), await embedded.scoreOptions!(req)];
      a.logprobs.forEach((x, i) => expect(x).toBeCloseTo(e.logprobs[i]!, 5));
    } finally {
      await b.close();
      await fake.close();
    }
  });

  it('refuses a generation server that serves another model, naming both', async () => {
    const fake = await startFakeOpenAIServer({ model: 'mistralai/Mistral-7B-Instruct-v0.2' });
    const b = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: fake.url, requestTimeoutMs: 30_000 });
    try {
      const err = await b.connect().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'config' });
      expect((err as Error).message).toMatch(/model mismatch: the sidecar at .* serves "stories260K" but the OpenAI-compatible server at .* serves .*Mistral-7B-Instruct-v0.2/);
    } finally {
      await b.close();
      await fake.close();
    }
  });

  it('refuses --model naming another model than the sidecar serves, and a wrong sidecar token', async () => {
    const wrongModel = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: TOKEN, baseUrl: `${server.url}/v1`, model: 'llama-70b', requestTimeoutMs: 30_000 });
    await expect(wrongModel.connect()).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('serves "stories260K"') });
    await wrongModel.close();
    const wrongToken = createSidecarBackend({ sidecarUrl: server.url, sidecarToken: 'nope', baseUrl: `${server.url}/v1`, requestTimeoutMs: 30_000 });
    const err = await wrongToken.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'auth', status: 401 });
    expect((err as Error).message).not.toContain('nope');
    await wrongToken.close();
  });
});
