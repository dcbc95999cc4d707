// Training on several sources (the built-in scorer's recipe) and the held-out split of the reference rows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blendWeights, trainBlend, type BlendSet } from '../../src/core/scorers/offline/blend';
import { encodeWeights } from '../../src/core/scorers/offline/file';
import { isHeldOut, readReferenceRows, scoredParts } from '../../src/core/scorers/offline/reference';
import { offlineScorerFromModel } from '../../src/core/scorers/offline/scorer';
import { toScorerFile } from '../../src/core/scorers/offline/file';

function set(name: string, target: 'labels' | 'reference-scores', rows: Array<[string, number]>, share = 1): BlendSet {
  return { source: { name, origin: 'test', licence: 'test', file: `${name}.csv`, target, share }, bytes: new Uint8Array([1]), rows: rows.map(([text, t]) => ({ text, target: t })) };
}

describe('blend training', () => {
  it('weights each source by its share, and the classes of a labelled source equally (worked by hand)', () => {
    // labels [1, 0, 0, 0], share 1: the positive 0.5, each negative 0.5/3; reference scores, share 1: 0.5 each.
    // Total 2 over 6 rows → scaled by 6/2 = 3: 1.5, 0.5, 0.5, 0.5, 1.5, 1.5.
    const w = blendWeights([set('a', 'labels', [['x', 1], ['y', 0], ['z', 0], ['v', 0]]), set('b', 'reference-scores', [['p', 0.2], ['q', 0.8]])]);
    expect([...w].map((x) => +x.toFixed(12))).toEqual([1.5, 0.5, 0.5, 0.5, 1.5, 1.5]);
    expect(() => blendWeights([set('one-class', 'labels', [['x', 1], ['y', 1]])])).toThrow(/"one-class" needs labels 0 and 1/);
    expect(() => blendWeights([set('soft', 'labels', [['x', 1], ['y', 0.5], ['z', 0]])])).toThrow(/"soft" needs labels 0 and 1/);
    expect(() => blendWeights([set('ref', 'reference-scores', [['x', 1.5]])])).toThrow(/"ref": reference score 1.5 is not in 0…1/);
    expect(() => blendWeights([set('empty', 'labels', [])])).toThrow(/"empty" has no rows/);
  });

  it('learns from labels and soft reference scores together, deterministically, recording every source', async () => {
    const bad = ['awful', 'nasty', 'horrid', 'vile', 'rotten', 'gross'];
    const good = ['lovely', 'kind', 'sunny', 'gentle', 'bright', 'calm'];
    const sets = [
      set('labels', 'labels', [...bad.map((w, i): [string, number] => [`you are ${w} ${i}`, 1]), ...good.map((w, i): [string, number] => [`you are ${w} ${i}`, 0])]),
      set('reference', 'reference-scores', [...bad.map((w): [string, number] => [`such a ${w} day`, 0.9]), ...good.map((w): [string, number] => [`such a ${w} day`, 0.1])], 0.5),
    ];
    const now = new Date('2026-12-03T00:00:00Z');
    const a = trainBlend(sets, { l2: 1e-3, seed: 1, tool: 'test', features: { buckets: 2 ** 12 } }, now);
    const b = trainBlend(sets, { l2: 1e-3, seed: 1, tool: 'test', features: { buckets: 2 ** 12 } }, now);
    expect(encodeWeights(a.model.weights)).toBe(encodeWeights(b.model.weights));
    expect(a.training.sources.map((s) => [s.name, s.rows, s.share, s.target])).toEqual([
      ['labels', 12, 1, 'labels'],
      ['reference', 12, 0.5, 'reference-scores'],
    ]);
    expect(a.training.sources[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const scorer = offlineScorerFromModel(a.model, toScorerFile(a.model, a.training));
    const [nasty, kind] = (await scorer.score(['a nasty vile thing', 'a kind gentle thing'])) as number[];
    expect(nasty!).toBeGreaterThan(0.5);
    expect(kind!).toBeLessThan(0.5);
  });
});

describe('reference rows (RealToxicityPrompts records)', () => {
  it('splits rows by key and seed alone, about half held out', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `doc-${i}.txt:${i * 7}`);
    const held = keys.filter((k) => isHeldOut(k, 42));
    expect(held.length / keys.length).toBeGreaterThan(0.45);
    expect(held.length / keys.length).toBeLessThan(0.55);
    expect(keys.filter((k) => isHeldOut(k, 42))).toEqual(held);
    expect(keys.filter((k) => isHeldOut(k, 43))).not.toEqual(held);
  });

  it('reads scores, keeps a missing Perspective score as null, and names file and line of a bad row', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-ref-'));
    const row = (begin: number, ct: number | null) => JSON.stringify({ filename: 'a.txt', begin, prompt: { text: 'The man', toxicity: 0.1 }, continuation: { text: ' left.', toxicity: ct } });
    writeFileSync(path.join(dir, 'ok.jsonl'), [row(0, 0.2), row(5, null)].join('\n') + '\n');
    const { rows } = await readReferenceRows(dir, ['ok.jsonl']);
    expect(rows.map((r) => [r.key, r.continuation.toxicity])).toEqual([
      ['a.txt:0', 0.2],
      ['a.txt:5', null],
    ]);
    expect(scoredParts(rows, 'continuation')).toEqual({ texts: [' left.'], reference: [0.2] });
    writeFileSync(path.join(dir, 'bad.jsonl'), [row(0, 0.2), row(5, 1.7)].join('\n') + '\n');
    await expect(readReferenceRows(dir, ['bad.jsonl'])).rejects.toThrow(`${path.join(dir, 'bad.jsonl')}:2: field "continuation.toxicity" is not a number in 0…1 or null`);
  });
});
