import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProbeFileSchema } from '../../src/core/probes/schema';
import { runCli } from '../support/cli';
import { DAVIDSON, JIGSAW, STORIES } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'sclab-probe-cli-'));

describe('sclab probe (built CLI)', () => {
  it('train on Jigsaw prints per-layer held-out accuracy and writes a valid probe file; show reads it back', async () => {
    const out = path.join(dir, 'jigsaw.probe.json');
    const r = await runCli(['probe', 'train', '--model', STORIES, '--data', JIGSAW, '--text-field', 'comment_text', '--label-field', 'toxic', '--limit', '60', '--max-tokens', '32', '--layers', '2-5', '--seed', '4', '--out', out, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { layers: Array<{ layer: number; heldOutAccuracy: number }>; texts: number; split: { nTrain: number; nHeldOut: number } };
    expect(summary.layers.map((l) => l.layer)).toEqual([2, 3, 4, 5]);
    for (const l of summary.layers) expect(l.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    expect(summary.texts).toBe(60);
    expect(summary.split).toMatchObject({ nTrain: 48, nHeldOut: 12 });
    const file = ProbeFileSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(file.model).toMatchObject({ name: 'stories260K', nLayers: 5, dModel: 64 });
    expect(file.layers.map((l) => l.heldOutAccuracy)).toEqual(summary.layers.map((l) => l.heldOutAccuracy));

    const text = await runCli(['probe', 'show', out]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/logistic .*stories260K/);
    expect(text.stdout).toMatch(/layer 5: held-out accuracy \d\.\d{3}/);
  });

  it('the human-readable table, Davidson classes 0 and 1 as toxic, the classifier direction', async () => {
    const out = path.join(dir, 'davidson.probe.json');
    const r = await runCli(['probe', 'train', '--model', STORIES, '--data', DAVIDSON, '--text-field', 'tweet', '--label-field', 'class', '--positive', '0', '1', '--variant', 'classifier-direction', '--limit', '40', '--max-tokens', '32', '--jobs', '2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/classifier-direction probe on stories260K/);
    expect(r.stdout).toMatch(/\n\s+5\s+\d\.\d{3}\s+\d\.\d{3}\n/);
    expect(r.stderr).toMatch(/probe: texts 40\/40/);
    const file = ProbeFileSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(file.training.data.positive).toEqual(['0', '1']);
    expect(file.kind).toBe('direction');
  });

  it('bad flags and bad data exit 1 with a message naming the problem', async () => {
    const out = path.join(dir, 'bad.probe.json');
    const base = ['probe', 'train', '--model', STORIES, '--data', JIGSAW, '--out', out];
    const layers = await runCli([...base, '--text-field', 'comment_text', '--label-field', 'toxic', '--layers', '3-1']);
    expect(layers.code).toBe(1);
    expect(layers.stderr).toMatch(/--layers.*reversed/);
    const field = await runCli([...base, '--text-field', 'comment', '--label-field', 'toxic', '--quiet']);
    expect(field.code).toBe(1);
    expect(field.stderr).toMatch(/no field "comment"/);
    const missing = await runCli(['probe', 'show', path.join(dir, 'none.probe.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.probe\.json/);
  });
});
