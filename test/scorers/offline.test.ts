import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, Featurizer, fnv1a } from '../../src/core/scorers/offline/features';
import { parseScorerFile, readScorerFile, writeScorerFile } from '../../src/core/scorers/offline/file';
import { loadOfflineScorer, offlineScorerFromModel } from '../../src/core/scorers/offline/scorer';
import { stratifiedSplit, trainOfflineScorer } from '../../src/core/scorers/offline/train';
import { toyRows } from './toy-data';

const SOURCE = { file: 'toy.csv', bytes: new TextEncoder().encode('toy'), textField: 'text', labelField: 'label', tool: 'test' };

describe('feature hashing', () => {
  it('is FNV-1a 32-bit (golden values)', () => {
    // the standard FNV-1a offset basis and test vectors
    expect(fnv1a('', 0x811c9dc5)).toBe(0x811c9dc5);
    expect(fnv1a('a', 0x811c9dc5)).toBe(0xe40c292c);
    expect(fnv1a('foobar', 0x811c9dc5)).toBe(0xbf9cf968);
  });

  it('gives the same sorted, unit-norm vector for the same text, and a golden bucket set', () => {
    const f = new Featurizer({ ...DEFAULT_FEATURES, buckets: 1024 });
    const a = f.featurize('You are an IDIOT, really.');
    const b = new Featurizer({ ...DEFAULT_FEATURES, buckets: 1024 }).featurize('you are an idiot, really.');
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.indices)).toEqual([...a.indices].sort((x, y) => x - y));
    const norm = Math.sqrt(a.values.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 6);
    // "hi" alone: the words "hi" (unigram) and char n-grams " hi", "hi ", " hi " → 4 features (3 char + 1 word)
    const hi = new Featurizer({ ...DEFAULT_FEATURES, buckets: 2 ** 20 }).featurize('hi');
    expect(hi.indices.length).toBe(4);
    expect(Array.from(hi.values).every((v) => Math.abs(v - 0.5) < 1e-7)).toBe(true);
  });

  it('counts repeats sublinearly, or as presence in binary mode', () => {
    const sub = new Featurizer({ ...DEFAULT_FEATURES, charNgrams: [0, 0], wordNgrams: [1, 1] }).featurize('bad bad bad good');
    const raw = Array.from(sub.values).sort();
    // 1 + ln 3 against 1, then normalised
    expect(raw[1]! / raw[0]!).toBeCloseTo(1 + Math.log(3), 5);
    const bin = new Featurizer({ ...DEFAULT_FEATURES, charNgrams: [0, 0], wordNgrams: [1, 1], tf: 'binary' }).featurize('bad bad bad good');
    expect(bin.values[0]).toBeCloseTo(bin.values[1]!, 7);
    // word bigrams add "bad bad" and "bad good"
    const bi = new Featurizer({ ...DEFAULT_FEATURES, charNgrams: [0, 0] }).featurize('bad bad bad good');
    expect(bi.indices.length).toBe(4);
  });
});

describe('training', () => {
  it('splits by label, seeded and reproducibly', () => {
    const labels = Uint8Array.from({ length: 100 }, (_, i) => (i < 20 ? 1 : 0));
    const a = stratifiedSplit(labels, 0.25, 1);
    expect(a.test.filter((i) => labels[i] === 1)).toHaveLength(5);
    expect(a.test).toHaveLength(25);
    expect(stratifiedSplit(labels, 0.25, 1)).toEqual(a);
    expect(stratifiedSplit(labels, 0.25, 2).test).not.toEqual(a.test);
  });

  it('learns a separable toy set to ≥ 0.9 held-out accuracy, deterministically', () => {
    const rows = toyRows(240);
    const f1 = trainOfflineScorer(rows, SOURCE, { holdout: 0.25, l2: 1e-3, features: { buckets: 2 ** 14 } }, new Date(0));
    expect(f1.training.heldOut.n).toBe(60);
    expect(f1.training.heldOut.accuracy!).toBeGreaterThanOrEqual(0.9);
    expect(f1.training.heldOut.auc!).toBeGreaterThanOrEqual(0.95);
    expect(f1.training.positives).toBe(120);
    expect(f1.training.data.sha256).toBe(createHash('sha256').update('toy').digest('hex'));
    const f2 = trainOfflineScorer(rows, SOURCE, { holdout: 0.25, l2: 1e-3, features: { buckets: 2 ** 14 } }, new Date(0));
    expect(f2).toEqual(f1);
    const scorer = offlineScorerFromModel(parseScorerFile(JSON.stringify(f1), 'x').model, f1);
    return scorer.score(['what a stupid idiot', 'thanks, very helpful', '']).then(([bad, good, blank]) => {
      expect(bad!).toBeGreaterThan(0.5);
      expect(good!).toBeLessThan(0.5);
      expect(blank).toBeNull();
    });
  });

  it('refuses a set without both classes', () => {
    const rows = toyRows(10).map((r) => ({ ...r, label: 1 as const }));
    expect(() => trainOfflineScorer(rows, SOURCE)).toThrow(/at least 2 positive and 2 negative/);
  });
});

describe('scorer file', () => {
  it('round-trips through disk with the same scores, and detects tampering', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-scorer-'));
    const content = trainOfflineScorer(toyRows(80), SOURCE, { holdout: 0, features: { buckets: 2 ** 12 } });
    const file = path.join(dir, 'toy.scorer.json');
    await writeScorerFile(file, content);
    const loaded = await readScorerFile(file);
    expect(loaded.file).toEqual(content);
    expect(loaded.model.weights.length).toBe(4096);
    const { scorer } = await loadOfflineScorer(file);
    const direct = offlineScorerFromModel(parseScorerFile(JSON.stringify(content), 'x').model, content);
    const texts = ['idiot talk', 'thanks for the edit'];
    expect(await scorer.score(texts)).toEqual(await direct.score(texts));
    expect(scorer.version).toBe(`logreg-ngrams/${content.fingerprint.slice(0, 12)}`);

    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.schema).toBe('sclab.scorer/1');
    expect(json.weights.encoding).toBe('base64-le');
    json.bias += 1;
    writeFileSync(file, JSON.stringify(json));
    await expect(readScorerFile(file)).rejects.toThrow(/fingerprint/);
    json.weights.data = json.weights.data.slice(8);
    writeFileSync(file, JSON.stringify(json));
    await expect(readScorerFile(file)).rejects.toThrow(/weights\.data holds/);
    writeFileSync(file, JSON.stringify({ ...json, schema: 'sclab.probe/1' }));
    await expect(readScorerFile(file)).rejects.toThrow(/not a scorer file/);
    writeFileSync(file, JSON.stringify({ ...json, features: { ...json.features, buckets: 1000 } }));
    await expect(readScorerFile(file)).rejects.toThrow(/features\.buckets: buckets must be a power of two/);
    await expect(readScorerFile(path.join(dir, 'absent.json'))).rejects.toThrow(/cannot read scorer file .*ENOENT/);
  });
});
