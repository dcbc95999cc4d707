import { loadLlama2c } from '../../src/core/engine/llama2c';
import type { LoadedModel } from '../../src/core/engine/types';
import { STORIES_SPEC } from './fixtures';

let cached: Promise<LoadedModel> | null = null;
export function llama2cFromSpec(): Promise<LoadedModel> {
  cached ??= loadLlama2c(STORIES_SPEC.bin, STORIES_SPEC.tokenizer);
  return cached;
}
