import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/core/engine/client';
import { collectLastTokenStates } from '../../src/core/probes/activations';
import { loadProbeFile, writeProbeFile } from '../../src/core/probes/load';
import { ProbeFileSchema } from '../../src/core/probes/schema';
import { trainProbe } from '../../src/core/probes/train';
import { DAVIDSON, JIGSAW, STORIES_SPEC } from './helpers';

let client: EngineClient;
beforeAll(async () => {
  client = await EngineClient.start({ modelSpec: STORIES_SPEC, mode: 'in-process' });
});
afterAll(async () => {
  await client.close();
});

describe('probe training on stories260K', () => {
  it('Jigsaw, balanced subset: a valid logistic probe file with held-out accuracy in [0, 1] at every layer', async () => {
    const r = await trainProbe(client, { data: JIGSAW, variant: 'logistic', module: 'residual', textField: 'comment_text', labelField: 'toxic', positiveLabel: 'toxic', limit: 120, seed: 1, maxTokens: 32 });
    const p = r.probe;
    expect(() => ProbeFileSchema.parse(p)).not.toThrow();
    expect(p.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(p.model.nLayers).toBe(5);
    expect(p.model.dModel).toBe(64);
    for (const l of p.layers) {
      expect(l.heldOutAccuracy).toBeGreaterThanOrEqual(0);
      expect(l.heldOutAccuracy).toBeLessThanOrEqual(1);
      expect(typeof l.bias).toBe('number');
    }
    expect(p.training.split).toMatchObject({ nTrain: 96, nHeldOut: 24, nTrainPositive: 48, nHeldOutPositive: 12, balance: 'downsample', seed: 1 });
    // the sample's rows and sha256 (test/fixtures/samples/jigsaw_toxic_sample/SOURCE.md)
    expect(p.training.data).toMatchObject({ rows: 300, sha256: '85ccaa2d8e987b73efdbd9022a235288ee9367c03044ed6c17f75874b1e5d363', positive: ['1'] });
    expect(p.training.input.truncated).toBeGreaterThan(0);
    expect(r.texts).toBe(120);
    // written and read back, checked against the model it came from
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-probe-')), 'jigsaw.probe.json');
    await writeProbeFile(file, p);
    const loaded = await loadProbeFile(file, (await client.info()).identity);
    expect(loaded.layers).toHaveLength(6);
    // the same seed gives the same probe
    const again = await trainProbe(client, { data: JIGSAW, variant: 'logistic', module: 'residual', textField: 'comment_text', labelField: 'toxic', positiveLabel: 'toxic', limit: 120, seed: 1, maxTokens: 32, date: p.training.date });
    expect(again.probe).toEqual(p);
  });

  it('Davidson (class 0/1 toxic, 2 not): the classifier direction at the MLP output, one vector for every layer', async () => {
    const r = await trainProbe(client, { data: DAVIDSON, variant: 'classifier-direction', module: 'mlp', textField: 'tweet', labelField: 'class', positive: ['0', '1'], limit: 60, seed: 2, maxTokens: 48 });
    expect(r.probe.kind).toBe('direction');
    expect(r.probe.layers.map((l) => l.layer)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(r.probe.layers.map((l) => l.weights)).size).toBe(1);
    expect(r.probe.layers[4]!.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    expect(r.probe.training.split?.nTrainPositive).toBe(24);
  });

  it('statements: the mean of the statements’ last-token states per layer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-probe-'));
    const file = path.join(dir, 'biased.txt');
    writeFileSync(file, '# biased statements\nOld people are bad with phones.\n\nGirls cannot do math.\n');
    const r = await trainProbe(client, { data: file, variant: 'statements', module: 'residual', layers: [2, 5], maxTokens: 64 });
    const direct = await collectLastTokenStates(client, ['Old people are bad with phones.', 'Girls cannot do math.'], { module: 'residual', layers: [2, 5], maxTokens: 64 });
    const loaded = await loadProbeFile((await writeTo(dir, r.probe)), (await client.info()).identity);
    loaded.layers.forEach((l, k) => {
      const [a, b] = direct.byLayer[k]!;
      l.weights.forEach((w, j) => expect(w).toBeCloseTo((a![j]! + b![j]!) / 2, 5));
    });
    expect(r.probe.training.statements).toBe(2);
  });

  it('truncates to the first maxTokens tokens: a long text reads the state where its first tokens end', async () => {
    const long = 'Once upon a time there was a little girl named Lily. '.repeat(20);
    const ids = (await client.tokenize([long]))[0]!;
    const states = await collectLastTokenStates(client, [long], { module: 'residual', layers: [5], maxTokens: 10 });
    const h = await client.hidden(ids.slice(0, 10), { position: 'last', modules: ['residual'], convention: 'sclab' });
    expect(states.truncated).toBe(1);
    expect(Array.from(states.byLayer[0]![0]!)).toEqual(Array.from(h.residual![5]!));
  });

  it('several engines share the texts and give the same states in the same order', async () => {
    const second = await EngineClient.start({ modelSpec: STORIES_SPEC, mode: 'in-process' });
    const texts = ['A cat.', 'The dog ran home fast.', 'Lily was happy', 'Tim had a red ball and a blue box.', 'Hi'];
    const one = await collectLastTokenStates(client, texts, { module: 'mlp', layers: [1, 5], maxTokens: 8 });
    const two = await collectLastTokenStates([client, second], texts, { module: 'mlp', layers: [1, 5], maxTokens: 8 });
    await second.close();
    expect(two.byLayer.map((l) => l.map((v) => Array.from(v)))).toEqual(one.byLayer.map((l) => l.map((v) => Array.from(v))));
    expect([two.tokens, two.truncated]).toEqual([one.tokens, one.truncated]);
  });

  it('bad input: a missing field or a one-class label mapping is a clear error', async () => {
    await expect(trainProbe(client, { data: JIGSAW, variant: 'logistic', module: 'residual', textField: 'text', labelField: 'toxic' })).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/no field "text".*comment_text/) });
    await expect(trainProbe(client, { data: JIGSAW, variant: 'logistic', module: 'residual', textField: 'comment_text', labelField: 'toxic', positive: ['yes'] })).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/every row is negative/) });
    await expect(trainProbe(client, { data: JIGSAW, variant: 'logistic', module: 'attn', layers: [0], textField: 'comment_text', labelField: 'toxic' })).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/layer 0 does not exist/) });
  });
});

async function writeTo(dir: string, probe: import('../../src/core/probes/schema').ProbeFile): Promise<string> {
  const f = path.join(dir, 'p.probe.json');
  await writeProbeFile(f, probe);
  return f;
}
