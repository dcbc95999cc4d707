// stories260K re-written as a Hugging Face folder (safetensors, rotate-half Q/K rows, tokenizer.json converted from
// tok512.bin) must give the same logits as the llama2.c loader: this pins the RoPE permutation, the tensor name
// mapping and the safetensors path against a real trained model.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfModel } from '../../src/core/engine/hf/load';
import { loadLlama2c } from '../../src/core/engine/llama2c';
import { nextTokenLogits } from '../../src/core/engine/session';
import { tmpDir } from './fixtures';
import { STORIES } from '../support/data';
import { writeStoriesAsHf } from '../support/stories-hf';

describe('stories260K in Hugging Face layout', () => {
  it('gives the llama2.c loader\'s logits at every step of a prompt (1e-4)', async () => {
    const ref = await loadLlama2c(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));
    const hf = await loadHfModel(writeStoriesAsHf(ref, tmpDir('stories'), join(STORIES, 'tok512.bin')));
    expect(hf.weights.config).toMatchObject({ ropeStyle: 'half', nHeads: 8, nKvHeads: 4, tiedEmbeddings: true });
    expect(ref.weights.config.ropeStyle).toBe('interleaved');

    const text = 'Once upon a time, there was a little girl named Lily.';
    const refIds = ref.tokenizer.encode(text);
    // the converted tokenizer.json reproduces llama2.c's greedy-by-score segmentation on this text
    expect(hf.tokenizer.encode(text)).toEqual(refIds);
    expect(hf.tokenizer.decode(refIds)).toBe(text);
    expect(hf.addBos).toBe(true);

    const ids = [1, ...refIds];
    let worst = 0;
    for (const n of [1, 2, 5, ids.length]) {
      const a = nextTokenLogits(ref, ids.slice(0, n));
      const b = nextTokenLogits(hf, ids.slice(0, n));
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    expect(worst).toBeLessThan(1e-4);

    // and without the permutation the logits differ: the test can fail
    const broken = { ...hf, weights: { ...hf.weights, config: { ...hf.weights.config, ropeStyle: 'interleaved' as const } } };
    const a = nextTokenLogits(ref, ids);
    const b = nextTokenLogits(broken, ids);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff).toBeGreaterThan(1e-2);
  });
});
