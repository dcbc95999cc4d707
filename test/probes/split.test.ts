import { describe, expect, it } from 'vitest';
import { defaultBand, fitClassifierDirection, fitLogisticLayers, fitStatementsDirection } from '../../src/core/probes/fit';
import { splitStratified } from '../../src/core/probes/split';
import { decodeVector } from '../../src/core/probes/vectors';

const labels = [...new Array<number>(30).fill(0), ...new Array<number>(10).fill(1)];

describe('stratified split with balancing', () => {
  it('downsample: equal classes, the held-out share per class, deterministic by seed', () => {
    const s = splitStratified(labels, { seed: 1, heldOutFraction: 0.2, balance: 'downsample' });
    const count = (idx: number[], c: number): number => idx.filter((i) => labels[i] === c).length;
    expect([count(s.train, 0), count(s.train, 1), count(s.heldOut, 0), count(s.heldOut, 1)]).toEqual([8, 8, 2, 2]);
    expect(new Set([...s.train, ...s.heldOut]).size).toBe(20);
    expect(s.trainWeights.every((w) => w === 1)).toBe(true);
    expect(splitStratified(labels, { seed: 1, heldOutFraction: 0.2, balance: 'downsample' })).toEqual(s);
    expect(splitStratified(labels, { seed: 2, heldOutFraction: 0.2, balance: 'downsample' })).not.toEqual(s);
  });

  it('weight: every row kept, weights n/(2·n_class) so each class weighs half', () => {
    const s = splitStratified(labels, { seed: 1, heldOutFraction: 0.25, balance: 'weight' });
    expect(s.train.length + s.heldOut.length).toBe(40);
    const w = (c: number): number => s.train.reduce((a, i, k) => a + (labels[i] === c ? s.trainWeights[k]! : 0), 0);
    expect(w(0)).toBeCloseTo(s.train.length / 2, 10);
    expect(w(1)).toBeCloseTo(s.train.length / 2, 10);
  });

  it('limit keeps the balance', () => {
    const s = splitStratified(labels, { seed: 3, heldOutFraction: 0.5, balance: 'downsample', limit: 8 });
    expect(s.train.length + s.heldOut.length).toBe(8);
    expect([...s.train, ...s.heldOut].filter((i) => labels[i] === 1).length).toBe(4);
  });
});

describe('fitting probe layers from vectors', () => {
  // layer 1 separates the classes along x; layer 2 carries no signal
  const y = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
  const l1 = y.map((c, i) => Float32Array.from([c ? 1 + (i % 3) * 0.1 : -1 - (i % 3) * 0.1, (i % 4) * 0.05, 0]));
  const l2 = y.map((_, i) => Float32Array.from([(i * 7) % 5, (i * 3) % 4, 1]));
  const split = { train: [0, 1, 2, 3, 4, 5, 6, 7], heldOut: [8, 9, 10, 11], trainWeights: new Array<number>(8).fill(1) };

  it('logistic: one probe per layer with held-out accuracy; the separable layer scores 1', () => {
    const r = fitLogisticLayers([1, 2], [l1, l2], y, split, { l2: 0.01, scaling: 'scalar' });
    expect(r.layers.map((l) => l.layer)).toEqual([1, 2]);
    expect(r.layers[0]!.heldOutAccuracy).toBe(1);
    expect(r.layers[0]!.bias).not.toBeNull();
    const w = decodeVector(r.layers[0]!.weights);
    expect(w[0]).toBeGreaterThan(Math.abs(w[1]!) * 3);
    for (const l of r.layers) expect(l.heldOutAccuracy).toBeGreaterThanOrEqual(0);
  });

  it('classifier direction: the last-layer classifier’s vector at every layer, accuracy only at the last', () => {
    const r = fitClassifierDirection(2, l1, y, split, [0, 1, 2], { l2: 0.01, scaling: 'scalar' });
    expect(r.layers.map((l) => l.bias)).toEqual([null, null, null]);
    expect(r.layers.map((l) => l.heldOutAccuracy)).toEqual([null, null, 1]);
    expect(new Set(r.layers.map((l) => l.weights)).size).toBe(1);
  });

  it('statements: the mean vector per layer', () => {
    const layers = fitStatementsDirection([3], [[Float32Array.from([1, 2]), Float32Array.from([3, -2])]]);
    expect(Array.from(decodeVector(layers[0]!.weights))).toEqual([2, 0]);
    expect(layers[0]!.bias).toBeNull();
  });

  it('default band: the upper half of the layers', () => {
    expect(defaultBand(32, Array.from({ length: 33 }, (_, i) => i))).toEqual([16, 32]);
    expect(defaultBand(5, [0, 1, 2, 3, 4, 5])).toEqual([3, 5]);
    expect(defaultBand(5, [1, 2])).toEqual([1, 2]);
  });
});
