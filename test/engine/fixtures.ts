// Shared fixtures of the engine tests: the stories260K checkpoint (test/fixtures), and small helpers.
import { loadLlama2c } from '../../src/core/engine/llama2c';
import type { LoadedModel } from '../../src/core/engine/types';
import { STORIES, STORIES_BIN, STORIES_TOK } from '../support/data';

export const MODEL_DIR = STORIES;
export const BIN = STORIES_BIN;
export const TOK = STORIES_TOK;
export const BOS = 1;

/** SOURCE.md's greedy continuation of BOS */
export const REFERENCE_STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw ' +
  'a big, red ball. She wanted to play with it, but it was too high';

let cached: Promise<LoadedModel> | null = null;
export function stories(): Promise<LoadedModel> {
  cached ??= loadLlama2c(BIN, TOK);
  return cached;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
