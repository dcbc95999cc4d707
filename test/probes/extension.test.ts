import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiddenStatesRequest } from '../../src/core/backends/backend';
import { createEmbeddedBackend, type EmbeddedBackend } from '../../src/core/backends/embedded';
import type { BackendDescription } from '../../src/core/model/manifest';
import { writeProbeFile } from '../../src/core/probes/load';
import { createProbeExtension } from '../../src/core/probes/probe-extension';
import type { ProbeFile } from '../../src/core/probes/schema';
import { seededRandom } from '../../src/core/probes/split';
import { cosine, encodeF32 } from '../../src/core/probes/vectors';
import type { RoundContext } from '../../src/core/runner/extensions';
import { STORIES_SPEC, toyProbe } from './helpers';

let backend: EmbeddedBackend;
let description: BackendDescription;
let dir: string;
const rand = seededRandom(42);
const vec = (): number[] => Array.from({ length: 64 }, () => rand() * 2 - 1);
const vecs: Record<string, number[]> = {};

beforeAll(async () => {
  backend = createEmbeddedBackend({ modelSpec: STORIES_SPEC, mode: 'in-process' });
  description = await backend.connect();
  dir = mkdtempSync(path.join(tmpdir(), 'sclab-probe-ext-'));
  const identity = description.identity!;
  const base = toyProbe({ model: identity });
  const logistic: ProbeFile = { ...base, band: [3, 5], layers: [0, 1, 2, 3, 4, 5].map((layer) => ((vecs[`r${layer}`] = vec()), { layer, weights: encodeF32(vecs[`r${layer}`]!), bias: 0.1 * layer, heldOutAccuracy: null })) };
  const direction: ProbeFile = { ...base, kind: 'direction', variant: 'statements', score: 'cosine', band: [2, 4], layers: [2, 3, 4].map((layer) => ((vecs[`d${layer}`] = vec()), { layer, weights: encodeF32(vecs[`d${layer}`]!), bias: null, heldOutAccuracy: null })) };
  const mlp: ProbeFile = { ...direction, module: 'mlp', layers: [1, 5].map((layer) => ((vecs[`m${layer}`] = vec()), { layer, weights: encodeF32(vecs[`m${layer}`]!), bias: null, heldOutAccuracy: null })) };
  await writeProbeFile(path.join(dir, 'toxic.probe.json'), logistic);
  await writeProbeFile(path.join(dir, 'bias.probe.json'), direction);
  await writeProbeFile(path.join(dir, 'mlp.probe.json'), mlp);
  await writeProbeFile(path.join(dir, 'other.probe.json'), { ...logistic, model: { ...identity, name: 'mistral-7b', weightsSha256: 'ff'.repeat(32) } });
});
afterAll(async () => {
  await backend.close();
});

const messages = [{ role: 'user' as const, content: 'Lily saw a big dog. Was the dog kind?' }];
const prefill = 'The single most likely answer choice is';
const ctxFor = (b: RoundContext['backend']): RoundContext => ({ messages, prefill, backend: b, description, signal: new AbortController().signal }) as unknown as RoundContext;

describe('probe extension on the embedded backend (stories260K)', () => {
  it('scores every probe from one hiddenStates request per module; cosines equal a direct computation', async () => {
    const ext = await createProbeExtension(
      [
        { name: 'toxicity', path: 'toxic.probe.json' },
        { name: 'bias', path: 'bias.probe.json' },
        { name: 'bias-attn', path: 'bias.probe.json', module: 'attn' },
        { name: 'mlp', path: 'mlp.probe.json' },
      ],
      { baseDir: dir, description },
    );
    const calls: HiddenStatesRequest[] = [];
    const spy = { ...backend, kind: backend.kind, hiddenStates: (req: HiddenStatesRequest, s?: AbortSignal) => (calls.push(req), backend.hiddenStates(req, s)) };
    const extras = await ext!.beforeChat!(ctxFor(spy));
    expect(calls.map((c) => c.module).sort()).toEqual(['attn', 'mlp', 'residual']);
    expect(calls.find((c) => c.module === 'residual')!.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(calls.every((c) => c.position === 'last')).toBe(true);

    for (const module of ['residual', 'attn', 'mlp'] as const) {
      const direct = await backend.hiddenStates({ messages, prefill, position: 'last', module });
      const at = (l: number): Float32Array => direct.vectors[direct.layers.indexOf(l)]!;
      for (const [name, key, layers] of [
        ['toxicity', 'r', [0, 1, 2, 3, 4, 5]],
        ['bias', 'd', [2, 3, 4]],
        ['bias-attn', 'd', [2, 3, 4]],
        ['mlp', 'm', [1, 5]],
      ] as const) {
        const s = extras.probes![name]!;
        if (s.module !== module) continue;
        expect(s.layers).toEqual(layers);
        layers.forEach((l, i) => expect(s.cosine[i]).toBeCloseTo(cosine(vecs[`${key}${l}`]!, at(l))!, 6));
        if (name === 'toxicity') {
          layers.forEach((l, i) => {
            const m = vecs[`r${l}`]!.reduce((a, w, j) => a + Math.fround(w) * at(l)[j]!, 0.1 * l);
            expect(s.probability![i]).toBeCloseTo(1 / (1 + Math.exp(-m)), 6);
          });
        } else expect(s.probability).toBeUndefined();
      }
    }
    // magnitudes are real numbers in [-1, 1], not placeholders
    expect(extras.probes!.toxicity!.cosine.every((c) => c !== null && Math.abs(c) <= 1)).toBe(true);
  });

  it('a residual probe read at the attention output scores its embeddings layer as null', async () => {
    const ext = await createProbeExtension([{ name: 't', path: 'toxic.probe.json', module: 'attn' }], { baseDir: dir, description });
    const s = (await ext!.beforeChat!(ctxFor(backend))).probes!.t!;
    expect(s.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.cosine[0]).toBeNull();
    expect(s.cosine.slice(1).every((c) => typeof c === 'number')).toBe(true);
  });

  it('refuses: another model, a backend without hidden states or identity, a bad band, a missing file', async () => {
    await expect(createProbeExtension([{ name: 'x', path: 'other.probe.json' }], { baseDir: dir, description })).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/"mistral-7b".*"stories260K"/) });
    const noHidden = { ...description, capabilities: { ...description.capabilities, hiddenStates: false } };
    await expect(createProbeExtension([{ name: 'x', path: 'toxic.probe.json' }], { baseDir: dir, description: noHidden })).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('need hidden states') });
    const { identity: _i, ...anonymous } = description;
    await expect(createProbeExtension([{ name: 'x', path: 'toxic.probe.json' }], { baseDir: dir, description: anonymous })).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('identity') });
    await expect(createProbeExtension([{ name: 'x', path: 'toxic.probe.json', band: [4, 9] }], { baseDir: dir, description })).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('band 4-9') });
    await expect(createProbeExtension([{ name: 'x', path: 'nope.probe.json' }], { baseDir: dir, description })).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('nope.probe.json') });
    expect(await createProbeExtension([], { baseDir: dir, description })).toBeUndefined();
  });
});
