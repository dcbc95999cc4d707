import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeFile, writeProbeFile } from '../../src/core/probes/load';
import { parseProbe } from '../../src/core/probes/probe';
import { ProbeFileSchema } from '../../src/core/probes/schema';
import { scoreHiddenStates } from '../../src/core/probes/score';
import { decodeVector, encodeF32 } from '../../src/core/probes/vectors';
import { MODEL, toyProbe } from './helpers';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'sclab-probe-'));

describe('probe file schema sclab.probe/1', () => {
  it('base64 float32 vectors round-trip exactly (float32 values)', () => {
    const v = Float32Array.from([0, -1.5, 3.25e-8, 1e30, -0, Math.PI]);
    expect(Array.from(decodeVector(encodeF32(v)))).toEqual(Array.from(v));
    expect(() => decodeVector('AAA')).toThrow(/base64|float32/);
  });

  it('round-trips through a file: written, loaded, same decoded vectors', async () => {
    const file = path.join(tmp(), 'toy.probe.json');
    await writeProbeFile(file, toyProbe());
    const p = await loadProbeFile(file, MODEL);
    expect(p.file).toEqual(ProbeFileSchema.parse(toyProbe()));
    expect(p.layers.map((l) => Array.from(l.weights))).toEqual([
      [1, 0, 0],
      [0, 2, 0],
      [1, 1, 0],
    ]);
    expect(p.layers[1]!.norm).toBe(2);
  });

  it('refuses a probe trained on another model, naming both', async () => {
    const file = path.join(tmp(), 'toy.probe.json');
    await writeProbeFile(file, toyProbe());
    const other = { ...MODEL, name: 'other-model', weightsSha256: 'cd'.repeat(32) };
    await expect(loadProbeFile(file, other)).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/"toy".*"other-model"/) });
    await expect(loadProbeFile(file, { ...MODEL, dModel: 4 })).rejects.toMatchObject({ code: 'config' });
    // the name alone may differ (a renamed folder with the same weights)
    await expect(loadProbeFile(file, { ...MODEL, name: 'renamed' })).resolves.toBeDefined();
  });

  it('rejects malformed files with the field named', async () => {
    const bad = (over: object): unknown => ({ ...toyProbe(), ...over });
    expect(() => parseProbe(bad({ schema: 'sclab.probe/2' }), 'f.json')).toThrow(/f\.json.*schema/);
    expect(() => parseProbe(bad({ layers: [{ layer: 9, weights: [1, 2, 3], bias: 0, heldOutAccuracy: null }] }), 'f.json')).toThrow(/layers\.0\.layer.*does not exist/);
    expect(() => parseProbe(bad({ layers: [{ layer: 1, weights: [1, 2], bias: 0, heldOutAccuracy: null }] }), 'f.json')).toThrow(/width is 3/);
    expect(() => parseProbe(bad({ layers: [{ layer: 1, weights: encodeF32([1, 2]), bias: 0, heldOutAccuracy: null }] }), 'f.json')).toThrow(/layers\.0\.weights.*width is 3/);
    expect(() => parseProbe(bad({ layers: [{ layer: 1, weights: [1, 2, 3], bias: null, heldOutAccuracy: null }] }), 'f.json')).toThrow(/needs a bias/);
    expect(() => parseProbe(bad({ kind: 'direction' }), 'f.json')).toThrow(/direction has no bias|yields/);
    expect(() => parseProbe(bad({ band: [2, 1] }), 'f.json')).toThrow(/reversed/);
    const file = path.join(tmp(), 'broken.probe.json');
    writeFileSync(file, '{"schema":');
    await expect(loadProbeFile(file)).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('not JSON') });
    await expect(loadProbeFile(path.join(tmp(), 'missing.probe.json'))).rejects.toMatchObject({ code: 'config', message: expect.stringContaining('ENOENT') });
  });
});

describe('scoreHiddenStates', () => {
  it('computes the cosine and the probability per layer by hand', () => {
    const p = parseProbe(toyProbe(), 'toy');
    const s = scoreHiddenStates(
      p,
      new Map([
        [0, [3, 4, 0]],
        [1, [0, 1, 0]],
        [2, [1, -1, 5]],
      ]),
    );
    expect(s.layers).toEqual([0, 1, 2]);
    expect(s.cosine[0]).toBeCloseTo(3 / 5, 12);
    expect(s.cosine[1]).toBeCloseTo(1, 12);
    expect(s.cosine[2]).toBeCloseTo(0, 12);
    expect(s.probability![0]).toBeCloseTo(1 / (1 + Math.exp(-3)), 12);
    expect(s.probability![1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12); // 2·1 − 1 = 1
    expect(s.probability![2]).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 12);
  });

  it('a missing layer and a zero vector score null; a direction has no probability', () => {
    const dir = toyProbe({ kind: 'direction', variant: 'statements', score: 'cosine', layers: toyProbe().layers.map((l) => ({ ...l, bias: null })) });
    const s = scoreHiddenStates(parseProbe(dir, 'dir'), new Map([[1, [0, 0, 0]], [2, [1, 1, 0]]]), 'attn');
    expect(s.module).toBe('attn');
    expect(s.cosine[0]).toBeNull();
    expect(s.cosine[1]).toBeNull();
    expect(s.cosine[2]).toBeCloseTo(1, 6);
    expect(s.probability).toBeUndefined();
  });

  it('refuses a hidden state of the wrong width', () => {
    expect(() => scoreHiddenStates(parseProbe(toyProbe(), 'toy'), new Map([[1, [1, 2]]]))).toThrow(/2 numbers/);
  });
});
