// The llama.cpp side of the engine cross-check, committed as a fixture so that `npm test` needs no llama.cpp:
// per-token log-probabilities and greedy tokens of stories260K from node-llama-cpp 3.21.1 (CPU, 1 thread, flash
// attention off, F32 KV cache) on the GGUF that test/support/gguf.ts writes. `npm run crosscheck:llamacpp`
// installs node-llama-cpp on demand, recomputes it and compares (`-- --write` rewrites the fixture).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LlamaCppModel } from '../../bench/support/llamacpp';
import { NODE_LLAMA_CPP_VERSION } from '../../bench/support/llamacpp';
import { FIXTURES, STORIES_BIN, STORIES_TOK } from '../support/data';

export const REFERENCE_FILE = path.join(FIXTURES, 'llamacpp', 'stories260K.llamacpp.json');
export const BOS = 1;
export const GREEDY_TOKENS = 60;

export const TEXTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside.',
  'Tom had a red ball. He threw it to his dog, and the dog ran fast to get it.',
  'The sun was shining and the birds were singing in the big green tree. A small cat sat under the tree and looked up.',
  'Why is the sky blue? Mom said, "Because the sun makes it so!"',
  'zebra quantum 42 café ☃ xylophone!',
];

export interface LlamaCppReference {
  generator: { tool: 'node-llama-cpp'; version: string; device: 'cpu'; threads: 1; flashAttention: false; kvCache: 'F32'; gguf: string };
  model: { bin: string; binSha256: string; tokenizer: string; tokenizerSha256: string };
  /** tokens: BOS + llama.cpp's tokens of the text; logprobs[t] = log P(tokens[t + 1] | tokens[0..t]) */
  texts: Array<{ text: string; tokens: number[]; logprobs: number[] }>;
  /** llama.cpp's greedy continuation of the prompt */
  greedy: { prompt: number[]; tokens: number[] };
}

export const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The reference as llama.cpp computes it now, on the GGUF of the fixture model that `cpp` has loaded. */
export async function computeReference(cpp: LlamaCppModel): Promise<LlamaCppReference> {
  const texts = [];
  for (const text of TEXTS) {
    const tokens = [BOS, ...cpp.tokenize(text)];
    texts.push({ text, tokens, logprobs: await cpp.logProbs(tokens) });
  }
  return {
    generator: { tool: 'node-llama-cpp', version: NODE_LLAMA_CPP_VERSION, device: 'cpu', threads: 1, flashAttention: false, kvCache: 'F32', gguf: 'test/support/gguf.ts llama2cToGguf' },
    model: { bin: 'stories260K.bin', binSha256: sha256File(STORIES_BIN), tokenizer: 'tok512.bin', tokenizerSha256: sha256File(STORIES_TOK) },
    texts,
    greedy: { prompt: [BOS], tokens: await cpp.greedy([BOS], GREEDY_TOKENS) },
  };
}

export function readReference(): LlamaCppReference {
  return JSON.parse(readFileSync(REFERENCE_FILE, 'utf8')) as LlamaCppReference;
}
