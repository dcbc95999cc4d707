// Cross-check of per-token log-probabilities on stories260K between three independent implementations:
// llama.cpp (node-llama-cpp 3.21.1 on a GGUF written by test/support/gguf.ts; its output is the committed fixture of
// llamacpp-reference.ts, which `npm run crosscheck:llamacpp` recomputes), a float64 plain-loop reference
// (test/support/reference-forward.ts) and our engine (src/core/engine). Tolerances from the engine's spec:
// mean |Δ| ≤ 3e-3 and per token |Δ| ≤ 5e-3 × max(1, |logprob|).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLlama2c } from '../../src/core/engine/llama2c';
import { generate, scoreContinuation } from '../../src/core/engine/session';
import type { LoadedModel } from '../../src/core/engine/types';
import { STORIES_BIN as BIN, STORIES_TOK as TOK } from '../support/data';
import { readLlama2cCheckpoint, referenceLogProbs, type Llama2cCheckpoint } from '../support/reference-forward';
import { BOS, GREEDY_TOKENS, readReference, sha256File, TEXTS, type LlamaCppReference } from './llamacpp-reference';

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

describe('stories260K log-probabilities: llama.cpp (committed reference) vs reference forward pass vs engine', () => {
  let cpp: LlamaCppReference;
  let ck: Llama2cCheckpoint;
  let model: LoadedModel;
  /** BOS + llama.cpp's tokens for each text */
  let sequences: number[][];

  beforeAll(async () => {
    cpp = readReference();
    ck = readLlama2cCheckpoint(BIN);
    model = await loadLlama2c(BIN, TOK);
    sequences = cpp.texts.map((t) => t.tokens);
  });

  it('the reference was computed on this model, for these texts, as the spec says', () => {
    expect(cpp.model).toMatchObject({ binSha256: sha256File(BIN), tokenizerSha256: sha256File(TOK) });
    expect(cpp.generator).toMatchObject({ tool: 'node-llama-cpp', version: '3.21.1', device: 'cpu', threads: 1, flashAttention: false });
    expect(cpp.texts.map((t) => t.text)).toEqual(TEXTS);
    for (const t of cpp.texts) {
      expect(t.tokens[0]).toBe(BOS);
      expect(t.logprobs).toHaveLength(t.tokens.length - 1);
      for (const lp of t.logprobs) expect(lp).toBeLessThanOrEqual(0);
    }
    expect(cpp.greedy.tokens).toHaveLength(GREEDY_TOKENS);
  });

  it('uses texts of 15–60 tokens', () => {
    for (const s of sequences.slice(0, 4)) {
      expect(s.length).toBeGreaterThanOrEqual(15);
      expect(s.length).toBeLessThanOrEqual(60);
    }
  });

  it('llama.cpp on the converted GGUF agrees with the independent reference forward pass', () => {
    cpp.texts.forEach(({ tokens: ids, logprobs }) => {
      const ref = referenceLogProbs(ck, ids.slice(0, -1)).map((row, t) => row[ids[t + 1]!]!);
      expectWithinTolerance(logprobs, ref);
    });
  });

  it('our engine agrees with llama.cpp', async () => {
    for (const { tokens: ids, logprobs } of cpp.texts) {
      const got = (await scoreContinuation(model, [BOS], ids.slice(1))).logprobs;
      expectWithinTolerance(got, logprobs);
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
    for (const t of cpp.texts) expect([BOS, ...model.tokenizer.encode(t.text)]).toEqual(t.tokens);
  });

  it('greedy decoding from BOS gives the same tokens in llama.cpp and our engine, and the reference story', async () => {
    const ours = await generate(model, cpp.greedy.prompt, { maxTokens: GREEDY_TOKENS, temperature: 0 });
    expect(ours.tokens).toEqual(cpp.greedy.tokens);
    expect(ours.text.startsWith('Once upon a time, there was a little girl named Lily. She loved to play outside in the park.')).toBe(true);
  });
});
