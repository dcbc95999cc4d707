// Cross-check of per-token log-probabilities on stories260K between three independent implementations:
// llama.cpp (node-llama-cpp, on a GGUF written by test/support/gguf.ts), a float64 plain-loop reference
// (test/support/reference-forward.ts) and our engine (src/core/engine). Tolerances from the engine's spec:
// mean |Δ| ≤ 3e-3 and per token |Δ| ≤ 5e-3 × max(1, |logprob|).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlama2c } from '../../src/core/engine/llama2c';
import { generate, scoreContinuation } from '../../src/core/engine/session';
import type { LoadedModel } from '../../src/core/engine/types';
import { llama2cToGguf } from '../support/gguf';
import { readLlama2cCheckpoint, referenceLogProbs, type Llama2cCheckpoint } from '../support/reference-forward';
import { loadLlamaCpp, type LlamaCppModel } from './llamacpp';

const MODEL_DIR = path.resolve(__dirname, '../../../shared/models/stories260K');
const BIN = path.join(MODEL_DIR, 'stories260K.bin');
const TOK = path.join(MODEL_DIR, 'tok512.bin');
const BOS = 1;

const TEXTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside.',
  'Tom had a red ball. He threw it to his dog, and the dog ran fast to get it.',
  'The sun was shining and the birds were singing in the big green tree. A small cat sat under the tree and looked up.',
  'Why is the sky blue? Mom said, "Because the sun makes it so!"',
  'zebra quantum 42 café ☃ xylophone!',
];

function compare(got: number[], want: number[]): { mean: number; worst: number; worstAllowed: number } {
  expect(got.length).toBe(want.length);
  let sum = 0;
  let worstRatio = 0;
  let worst = 0;
  let worstAllowed = 0;
  got.forEach((g, i) => {
    const w = want[i]!;
    const d = Math.abs(g - w);
    const allowed = 5e-3 * Math.max(1, Math.abs(w));
    sum += d;
    if (d / allowed > worstRatio) [worstRatio, worst, worstAllowed] = [d / allowed, d, allowed];
  });
  return { mean: sum / got.length, worst, worstAllowed };
}

function expectWithinTolerance(got: number[], want: number[]): void {
  const c = compare(got, want);
  expect(c.mean).toBeLessThanOrEqual(3e-3);
  expect(c.worst).toBeLessThanOrEqual(c.worstAllowed);
}

describe('stories260K log-probabilities: llama.cpp vs reference vs engine', () => {
  let dir: string;
  let cpp: LlamaCppModel;
  let ck: Llama2cCheckpoint;
  let model: LoadedModel;
  /** BOS + llama.cpp's tokens for each text */
  let sequences: number[][];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-gguf-'));
    const gguf = path.join(dir, 'stories260K.gguf');
    llama2cToGguf(BIN, TOK, gguf);
    cpp = await loadLlamaCpp(gguf);
    ck = readLlama2cCheckpoint(BIN);
    model = await loadLlama2c(BIN, TOK);
    sequences = TEXTS.map((t) => [BOS, ...cpp.tokenize(t)]);
  });

  afterAll(async () => {
    await cpp?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uses texts of 15–60 tokens', () => {
    for (const s of sequences.slice(0, 4)) {
      expect(s.length).toBeGreaterThanOrEqual(15);
      expect(s.length).toBeLessThanOrEqual(60);
    }
  });

  it('llama.cpp on the converted GGUF agrees with the independent reference forward pass', async () => {
    for (const ids of sequences) {
      const ref = referenceLogProbs(ck, ids.slice(0, -1)).map((row, t) => row[ids[t + 1]!]!);
      const got = await cpp.logProbs(ids);
      expectWithinTolerance(got, ref);
    }
  });

  it('our engine agrees with llama.cpp', async () => {
    for (const ids of sequences) {
      const want = await cpp.logProbs(ids);
      const got = (await scoreContinuation(model, [BOS], ids.slice(1))).logprobs;
      expectWithinTolerance(got, want);
    }
  });

  it('our engine agrees with the reference forward pass', async () => {
    for (const ids of sequences) {
      const ref = referenceLogProbs(ck, ids.slice(0, -1)).map((row, t) => row[ids[t + 1]!]!);
      const got = (await scoreContinuation(model, [BOS], ids.slice(1))).logprobs;
      expectWithinTolerance(got, ref);
    }
  });

  it("our tokenizer encodes like llama.cpp's SentencePiece tokenizer", () => {
    for (const t of TEXTS) expect(model.tokenizer.encode(t)).toEqual(cpp.tokenize(t));
  });

  it('greedy decoding from BOS gives the same tokens in llama.cpp and our engine, and the reference story', async () => {
    const n = 60;
    const ours = await generate(model, [BOS], { maxTokens: n, temperature: 0 });
    const theirs = await cpp.greedy([BOS], ours.tokens.length);
    expect(ours.tokens).toEqual(theirs);
    expect(ours.text.startsWith('Once upon a time, there was a little girl named Lily. She loved to play outside in the park.')).toBe(true);
  });
});
