// The sclab.sidecar/1 conformance suite: checks any server at a URL. Used by vitest (against `sclab serve` on
// stories260K, in-process) and by conformance-cli.ts (`npm run test:sidecar -- --url …`, e.g. the Python sidecar).
// Each check throws with a message saying what the server got wrong.
import { connect } from 'node:net';
import { createSidecarClient, type SidecarClient } from '../../src/core/sidecar/client';
import type { SidecarInfo, SteerWire } from '../../src/core/sidecar/protocol';

export interface Check {
  name: string;
  run(): Promise<void>;
}

export interface ConformanceTarget {
  url: string;
  token?: string;
  timeoutMs?: number;
}

function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert(a.length === b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

const PROMPT = 'Once upon a time, there was a little girl named Lily.';
const MESSAGES = [{ role: 'user' as const, content: 'Tell me a story about a cat.' }];

async function expectError(c: SidecarClient, status: number, code: string, method: 'GET' | 'POST', path: string, body?: unknown, init?: { headers?: Record<string, string>; rawBody?: string }): Promise<void> {
  const a = await c.raw(method, path, body, init);
  const err = (a.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  assert(a.status === status, `${method} ${path}: expected HTTP ${status}, got ${a.status} (${JSON.stringify(a.body).slice(0, 200)})`);
  assert(err && err.code === code && typeof err.message === 'string' && err.message.length > 0, `${method} ${path}: expected {error: {code: "${code}", message}}, got ${JSON.stringify(a.body).slice(0, 200)}`);
}

export function conformanceChecks(target: ConformanceTarget): { checks: Check[]; close(): void } {
  const c = createSidecarClient({ url: target.url, timeoutMs: target.timeoutMs ?? 120_000, ...(target.token ? { token: target.token } : {}) });
  let infoP: Promise<SidecarInfo> | null = null;
  const info = (): Promise<SidecarInfo> => (infoP ??= c.info());
  const checks: Check[] = [
    {
      name: 'GET /v1/info names the protocol, the model and its shape',
      async run() {
        const i = await info();
        assert(i.n_layers > 0 && i.d_model > 0 && i.model.length > 0, 'info lacks model, n_layers or d_model');
        assert(i.modules.includes('resid'), 'info.modules must include "resid"');
        assert(i.capabilities.hidden_states, 'capabilities.hidden_states must be true');
      },
    },
    {
      name: 'hidden_states: all residual layers at the last token, n_layers + 1 finite vectors of d_model',
      async run() {
        const i = await info();
        const h = await c.hiddenStates({ prompt: PROMPT });
        assert(h.layers.length === i.n_layers + 1 && h.layers.every((l, k) => l === k), `layer_ids ${JSON.stringify(h.layers)}: expected 0…${i.n_layers}`);
        assert(h.dim === i.d_model, `dim ${h.dim} ≠ d_model ${i.d_model}`);
        assert(h.vectors.every((v) => v.length === i.d_model && v.every(Number.isFinite)), 'a vector has the wrong length or a non-finite number');
        assert(h.vectors.some((v) => v.some((x) => x !== 0)), 'every state is zero');
      },
    },
    {
      name: 'hidden_states: json and base64-f32 encodings carry the same numbers',
      async run() {
        const a = await c.hiddenStates({ prompt: PROMPT, encoding: 'json', layers: [0, 1] });
        const b = await c.hiddenStates({ prompt: PROMPT, encoding: 'base64-f32', layers: [0, 1] });
        for (let k = 0; k < a.vectors.length; k++) assert(maxRelDiff(a.vectors[k]!, b.vectors[k]!) === 0, `layer ${a.layers[k]}: json and base64-f32 differ`);
      },
    },
    {
      name: 'hidden_states: a layer list returns exactly those layers (each once), equal to the same entries of "all"',
      async run() {
        const i = await info();
        const all = await c.hiddenStates({ prompt: PROMPT, encoding: 'base64-f32' });
        const want = [i.n_layers, 1];
        const some = await c.hiddenStates({ prompt: PROMPT, encoding: 'base64-f32', layers: [...want, want[0]!] });
        assert(JSON.stringify(some.layers) === JSON.stringify(want), `layer_ids ${JSON.stringify(some.layers)} ≠ ${JSON.stringify(want)}`);
        for (let k = 0; k < want.length; k++) assert(maxRelDiff(some.vectors[k]!, all.vectors[want[k]!]!) < 1e-5, `layer ${want[k]} differs from its entry in "all"`);
      },
    },
    {
      name: 'hidden_states: position "all" has n_tokens rows; "last" is its last row and "mean" the mean of its rows except the special positions',
      async run() {
        const i = await info();
        const L = i.n_layers;
        const all = await c.hiddenStates({ prompt: PROMPT, position: 'all', layers: [L], encoding: 'base64-f32' });
        const last = await c.hiddenStates({ prompt: PROMPT, position: 'last', layers: [L], encoding: 'base64-f32' });
        const mean = await c.hiddenStates({ prompt: PROMPT, position: 'mean', layers: [L], encoding: 'base64-f32' });
        const d = i.d_model;
        const n = all.nTokens;
        assert(n > 1 && all.vectors[0]!.length === n * d, `position all: ${all.vectors[0]!.length} numbers for n_tokens ${n} × ${d}`);
        assert(maxRelDiff(last.vectors[0]!, all.vectors[0]!.subarray((n - 1) * d)) < 1e-4, '"last" is not the last row of "all"');
        const special = new Set(all.specialPositions ?? []);
        assert(all.specialPositions !== undefined, 'hidden_states: no special_positions in the answer (which positions "mean" leaves out)');
        assert(JSON.stringify(mean.specialPositions) === JSON.stringify(all.specialPositions), 'special_positions differ between position "all" and "mean"');
        // the prompt is plain text: the only special token is the BOS the model puts in front (when it has one)
        assert([...special].every((p) => p === 0), `special_positions ${JSON.stringify([...special])}: plain text has no special token after BOS`);
        const kept = Array.from({ length: n }, (_, t) => t).filter((t) => !special.has(t));
        const m = new Float64Array(d);
        for (const t of kept) for (let j = 0; j < d; j++) m[j]! += all.vectors[0]![t * d + j]! / kept.length;
        assert(maxRelDiff(mean.vectors[0]!, m) < 1e-4, `"mean" is not the mean of the rows of "all" at positions ${kept.length < 8 ? kept.join(', ') : `${kept[0]}…${kept.at(-1)}`} (special positions ${JSON.stringify([...special])} left out)`);
      },
    },
    {
      name: 'hidden_states: attn and mlp outputs, layers 1…n_layers (no embeddings entry)',
      async run() {
        const i = await info();
        for (const module of ['attn', 'mlp'] as const) {
          if (!i.modules.includes(module)) continue;
          const h = await c.hiddenStates({ prompt: PROMPT, module, encoding: 'base64-f32' });
          assert(h.layers.length === i.n_layers && h.layers[0] === 1, `${module}: layer_ids ${JSON.stringify(h.layers)}: expected 1…${i.n_layers}`);
          await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { prompt: PROMPT, module, layers: [0] });
        }
      },
    },
    {
      name: 'hidden_states: messages + prefill are rendered by the chat format; the prefill changes the last state',
      async run() {
        const i = await info();
        const a = await c.hiddenStates({ messages: MESSAGES, layers: [i.n_layers], encoding: 'base64-f32' });
        const b = await c.hiddenStates({ messages: MESSAGES, prefill: 'Once upon a time', layers: [i.n_layers], encoding: 'base64-f32' });
        assert(b.nTokens > a.nTokens, `the prefill added no tokens (${a.nTokens} → ${b.nTokens})`);
        assert(maxRelDiff(a.vectors[0]!, b.vectors[0]!) > 1e-3, 'the prefill did not change the last state');
      },
    },
    {
      name: 'hidden_states: the same request twice gives the same numbers',
      async run() {
        const a = await c.hiddenStates({ prompt: PROMPT, encoding: 'base64-f32', layers: [1] });
        const b = await c.hiddenStates({ prompt: PROMPT, encoding: 'base64-f32', layers: [1] });
        assert(maxRelDiff(a.vectors[0]!, b.vectors[0]!) === 0, 'two identical requests gave different states');
      },
    },
    {
      name: 'errors: bad layers, unknown module, both or neither input, non-JSON body → 400 {error: {code, message}}',
      async run() {
        const i = await info();
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { prompt: PROMPT, layers: [i.n_layers + 1] });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { prompt: PROMPT, layers: 'some' });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { prompt: PROMPT, module: 'residual_stream' });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { prompt: PROMPT, messages: MESSAGES });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', { layers: 'all' });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/hidden_states', undefined, { rawBody: '{"prompt": ' });
      },
    },
    {
      name: 'errors: unknown route 404, wrong method 405, oversized body 413, overlong prompt 413',
      async run() {
        const i = await info();
        await expectError(c, 404, 'not_found', 'GET', '/v1/no_such_route');
        await expectError(c, 405, 'method_not_allowed', 'GET', '/v1/hidden_states');
        assert(i.limits, 'info.limits is needed to test the limits');
        await expectError(c, 413, 'too_large', 'POST', '/v1/hidden_states', undefined, { rawBody: JSON.stringify({ prompt: 'x'.repeat(i.limits.max_body_bytes + 10) }) });
        if (i.limits.max_prompt_chars < i.limits.max_body_bytes - 100) {
          await expectError(c, 413, 'prompt_too_long', 'POST', '/v1/hidden_states', { prompt: 'a '.repeat(Math.ceil((i.limits.max_prompt_chars + 2) / 2)) });
        }
      },
    },
    {
      name: 'loglikelihood: per-token log-probabilities ≤ 0 that sum to the total; an empty continuation scores 0',
      async run() {
        const i = await info();
        if (!i.capabilities.loglikelihood) return;
        const r = await c.loglikelihood({ context: 'Once upon a time, there was a little', continuations: [' girl', ' dog named Max', ''] });
        assert(r.results.length === 3, `${r.results.length} results for 3 continuations`);
        for (const [k, x] of r.results.entries()) {
          assert(x.tokens.length === x.logprobs.length, `results[${k}]: ${x.tokens.length} tokens, ${x.logprobs.length} logprobs`);
          assert(x.logprobs.every((l) => l <= 1e-6 && Number.isFinite(l)), `results[${k}]: a log-probability above 0 or not finite`);
          assert(Math.abs(x.sum - x.logprobs.reduce((a, b) => a + b, 0)) < 1e-4, `results[${k}]: sum ≠ the sum of logprobs`);
        }
        assert(r.results[0]!.tokens.join('') === ' girl' || r.results[0]!.tokens.join('').trim() === 'girl', `tokens ${JSON.stringify(r.results[0]!.tokens)} do not spell " girl"`);
        assert(r.results[2]!.tokens.length === 0 && r.results[2]!.sum === 0, 'an empty continuation must score 0 over no tokens');
        const m = await c.loglikelihood({ messages: MESSAGES, prefill: 'Once upon a', continuations: [' time'] });
        assert(m.results[0]!.logprobs.length > 0, 'messages + prefill context gave no tokens');
      },
    },
    {
      name: 'probe_scores: an inline probe scores like the probe computed locally on the served hidden states',
      async run() {
        const i = await info();
        if (!i.capabilities.probe_scores || !i.identity) return;
        const layers = [1, i.n_layers];
        const w = (l: number) => Array.from({ length: i.d_model }, (_, j) => Math.sin(j * 0.37 + l));
        const probe = syntheticProbe(i, layers, w);
        const r = await c.probeScores({ prompt: PROMPT, probes: [{ name: 'p', probe }] });
        const s = r.scores[0]!;
        assert(s.probe === 'p' && JSON.stringify(s.layer_ids) === JSON.stringify(layers), `scores[0]: ${JSON.stringify(s).slice(0, 200)}`);
        const h = await c.hiddenStates({ prompt: PROMPT, layers, encoding: 'base64-f32' });
        for (const [k, l] of layers.entries()) {
          const v = h.vectors[k]!;
          const ww = w(l);
          let dot = 0;
          let nv = 0;
          let nw = 0;
          for (let j = 0; j < v.length; j++) {
            dot += v[j]! * ww[j]!;
            nv += v[j]! * v[j]!;
            nw += ww[j]! * ww[j]!;
          }
          const cos = dot / Math.sqrt(nv * nw);
          const p = 1 / (1 + Math.exp(-(dot + 0.5)));
          assert(Math.abs(s.cosine[k]! - cos) < 1e-4, `layer ${l}: cosine ${s.cosine[k]} ≠ ${cos}`);
          assert(Math.abs(s.probability![k]! - p) < 1e-4, `layer ${l}: probability ${s.probability![k]} ≠ ${p}`);
        }
        await expectError(c, 404, 'not_found', 'POST', '/v1/probe_scores', { prompt: PROMPT, probes: [{ id: 'no-such-probe-id' }] });
        const other = syntheticProbe({ ...i, identity: { ...i.identity, weights_sha256: '0'.repeat(64) } }, layers, w);
        await expectError(c, 400, 'bad_request', 'POST', '/v1/probe_scores', { prompt: PROMPT, probes: [{ probe: other }] });
      },
    },
    {
      name: 'steer: alpha 0 changes nothing; a push changes generation, log-likelihoods and hidden states; ablation removes the direction; bad steers are 400 (or 501 without the capability)',
      async run() {
        const i = await info();
        const mid = Math.max(1, Math.floor(i.n_layers / 2));
        const dir = Array.from({ length: i.d_model }, (_, j) => Math.sin(1.7 * j + 0.3));
        const steer = (alpha: number, extra: Partial<SteerWire> = {}): SteerWire => ({ mode: 'add', alpha, layers: [{ layer: mid, direction: dir }], ...extra });
        if (!i.capabilities.steer) {
          await expectError(c, 501, 'unsupported', 'POST', '/v1/loglikelihood', { context: PROMPT, continuations: [' She'], steer: steer(1) });
          return;
        }
        assert(i.capabilities.generate && i.capabilities.loglikelihood, 'capability steer needs generate and loglikelihood');
        const gen = (s?: SteerWire) => c.generate({ prompt: PROMPT, max_tokens: 12, ...(s ? { steer: s } : {}) });
        const plain = await gen();
        assert((await gen(steer(0))).text === plain.text, 'steer with alpha 0 changed the greedy text');
        const big = 4 * Math.sqrt(i.d_model);
        assert((await gen(steer(big))).text !== plain.text, `steer with alpha ${big.toFixed(1)} at layer ${mid} left the greedy text unchanged`);
        const ll = async (s?: SteerWire) => (await c.loglikelihood({ context: PROMPT, continuations: [' She was happy.'], ...(s ? { steer: s } : {}) })).results[0]!.sum;
        const base = await ll();
        assert(Math.abs((await ll(steer(0))) - base) <= 1e-4 * Math.max(1, Math.abs(base)), 'steer with alpha 0 changed the log-likelihood');
        assert(Math.abs((await ll(steer(big))) - base) > 1e-3, 'a steered log-likelihood equals the unsteered one');
        // ablation at layer mid: the output of that layer has no component along the direction
        const h = await c.hiddenStates({ prompt: PROMPT, layers: [mid], position: 'last', steer: { mode: 'ablate', layers: [{ layer: mid, direction: dir }] } });
        const v = h.vectors[0]!;
        const n = Math.hypot(...dir);
        const along = v.reduce((a, x, j) => a + x * dir[j]!, 0) / n;
        assert(Math.abs(along) < 1e-3 * Math.max(1, Math.hypot(...v)), `ablated layer ${mid} still has ${along} along the direction`);
        await expectError(c, 400, 'bad_request', 'POST', '/v1/generate', { prompt: PROMPT, steer: steer(1, { layers: [{ layer: i.n_layers + 1, direction: dir }] }) });
        await expectError(c, 400, 'bad_request', 'POST', '/v1/loglikelihood', { context: PROMPT, continuations: [' a'], steer: steer(1, { layers: [{ layer: mid, direction: [1, 2, 3] }] }) });
      },
    },
  ];
  checks.push(
    {
      name: 'tokenize: POST /v1/tokenize gives the ids hidden_states runs on; BOS once, in front, and a special position',
      async run() {
        const t = await c.tokenize({ messages: MESSAGES, prefill: 'Once upon' });
        const h = await c.hiddenStates({ messages: MESSAGES, prefill: 'Once upon', layers: [0], encoding: 'base64-f32' });
        assert(t.tokens.length === h.nTokens, `tokenize gives ${t.tokens.length} ids, hidden_states ran on ${h.nTokens} tokens`);
        assert(t.text.endsWith('Once upon'), `the rendered text does not end with the prefill: ${JSON.stringify(t.text.slice(-60))}`);
        if (t.bos_id != null && t.tokens[0] === t.bos_id) {
          assert(t.tokens.filter((x) => x === t.bos_id).length === 1, `BOS ${t.bos_id} appears more than once: ${JSON.stringify(t.tokens.slice(0, 8))}`);
          assert(h.specialPositions?.includes(0), `position 0 holds BOS but special_positions is ${JSON.stringify(h.specialPositions)}`);
        }
      },
    },
    {
      name: 'connections: a negative content-length is refused with 400 (not left waiting); an answer given before the body is read is the only answer',
      async run() {
        const u = new URL(target.url);
        const exchange = (request: string): Promise<string> =>
          new Promise((resolve, reject) => {
            const sock = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 80 });
            let got = '';
            // the server must answer (and here close or keep the line idle); 10 s without a close ends the read
            const stop = setTimeout(() => sock.destroy(), 10_000);
            sock.on('data', (d) => (got += d.toString('latin1')));
            sock.on('close', () => {
              clearTimeout(stop);
              resolve(got);
            });
            sock.on('error', reject);
            sock.write(request);
          });
        const neg = await exchange(`POST /v1/hidden_states HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n${target.token ? `authorization: Bearer ${target.token}\r\n` : ''}content-length: -5\r\nconnection: close\r\n\r\n`);
        assert(/^HTTP\/1\.[01] 400/.test(neg), `content-length -5: expected 400, got ${JSON.stringify(neg.slice(0, 60))}`);
        // a request hidden in the body of a refused one must not be answered as a request of its own; the last
        // request (connection: close) ends the exchange on servers that read the body and keep the connection
        const auth = target.token ? `authorization: Bearer ${target.token}\r\n` : '';
        const hidden = `GET /v1/smuggled-marker HTTP/1.1\r\nhost: ${u.host}\r\n${auth}\r\n`;
        const got = await exchange(
          `POST /v1/nowhere HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n${auth}content-length: ${hidden.length}\r\n\r\n${hidden}` +
            `GET /v1/info HTTP/1.1\r\nhost: ${u.host}\r\n${auth}connection: close\r\n\r\n`,
        );
        assert(/^HTTP\/1\.[01] 404/.test(got), `POST /v1/nowhere: expected 404 first, got ${JSON.stringify(got.slice(0, 60))}`);
        assert(!got.includes('smuggled-marker'), 'the body of a refused request was answered as a request of its own');
      },
    },
  );
  if (target.token) {
    checks.push({
      name: 'auth: a missing or wrong bearer token is refused with 401',
      async run() {
        await expectError(c, 401, 'unauthorized', 'GET', '/v1/info', undefined, { headers: { authorization: '' } });
        await expectError(c, 401, 'unauthorized', 'POST', '/v1/hidden_states', { prompt: PROMPT }, { headers: { authorization: 'Bearer wrong-token' } });
      },
    });
  }
  return { checks, close: () => c.close() };
}

/** a logistic probe file (sclab.probe/1) for the served model with the given per-layer vectors and bias 0.5 */
export function syntheticProbe(i: SidecarInfo, layers: number[], w: (l: number) => number[]): Record<string, unknown> {
  const id = i.identity!;
  return {
    schema: 'sclab.probe/1',
    model: { name: id.name, nLayers: id.n_layers, dModel: id.d_model, weightsSha256: id.weights_sha256 },
    module: 'residual',
    position: 'last',
    convention: 'sclab',
    kind: 'logistic',
    variant: 'logistic',
    score: 'cosine+probability',
    band: [layers[0], layers[layers.length - 1]],
    layers: layers.map((l) => ({ layer: l, weights: w(l), bias: 0.5, heldOutAccuracy: null })),
    training: {
      tool: 'sidecar conformance',
      toolVersion: '0',
      date: '2026-01-01T00:00:00Z',
      data: { file: 'synthetic', sha256: '0', format: 'lines', textField: null, labelField: null, positive: ['1'], rows: 0 },
      input: { format: 'raw', maxTokens: 1, truncation: 'keep-first', truncated: 0 },
    },
  };
}
