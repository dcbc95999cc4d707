// `sclab probe train --variant contrast --pos FILE --neg FILE`: the mean-difference direction as a probe file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORIES } from '../support/data';
import { runCli } from '../support/cli';

const FIXTURE = path.resolve(__dirname, '../fixtures/steering');

describe('sclab probe train --variant contrast', () => {
  it('writes a direction per layer from --pos and --neg, with both files in its provenance', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'sclab-contrast-')), 'dogcat.probe.json');
    const r = await runCli(['probe', 'train', '--model', STORIES, '--variant', 'contrast', '--pos', path.join(FIXTURE, 'dogs.txt'), '--neg', path.join(FIXTURE, 'cats.txt'), '--positive-label', 'dog', '--out', out, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ variant: 'contrast', kind: 'direction', texts: 64 });
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.variant).toBe('contrast');
    expect(file.layers.map((l: { layer: number }) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(file.training.data.file).toContain('dogs.txt');
    expect(file.training.contrast).toMatchObject({ nPositive: 32, nNegative: 32, negative: { file: expect.stringContaining('cats.txt') } });
  });

  it('says which files the contrast variant needs', async () => {
    const out = path.join(tmpdir(), 'never.probe.json');
    const missing = await runCli(['probe', 'train', '--model', STORIES, '--variant', 'contrast', '--pos', path.join(FIXTURE, 'dogs.txt'), '--out', out]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--variant contrast needs --pos FILE and --neg FILE');
    const stray = await runCli(['probe', 'train', '--model', STORIES, '--variant', 'statements', '--data', path.join(FIXTURE, 'dogs.txt'), '--neg', path.join(FIXTURE, 'cats.txt'), '--out', out]);
    expect(stray.stderr).toContain('--pos and --neg belong to --variant contrast');
  });
});
