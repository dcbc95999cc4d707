// Loads a model from a local spec, on the thread that will run it (the engine worker). Catalogue names and
// downloads are resolved beforehand by the host through resolve.ts's resolveModel (it needs the cache folder and
// the network); what reaches here is a path or an already resolved llama2.c / Hugging Face reference.
import path from 'node:path';
import { classifyLocalPath } from './hf/local-spec';
import { loadLlama2c } from './llama2c';
import { loadModel } from './resolve';
import type { SharedWeights } from './shared-weights';
import type { LoadedModel } from './types';

export type ModelSpec =
  /** a local folder (Hugging Face or llama2.c) or a llama2.c .bin */
  | string
  | { kind: 'llama2c'; bin: string; tokenizer: string; name?: string }
  | { kind: 'hf'; dir: string; name?: string; sha256?: Record<string, string> };

export function describeModelSpec(spec: ModelSpec): string {
  if (typeof spec === 'string') return spec;
  return spec.kind === 'llama2c' ? spec.bin : spec.dir;
}

/** shared: weights another worker loaded into a shared kernel memory (then only tokenizer and chat format are read) */
export async function loadLocalModel(spec: ModelSpec, shared?: SharedWeights): Promise<LoadedModel> {
  if (typeof spec === 'string') return loadModel(await classifyLocalPath(path.resolve(spec)), shared);
  if (spec.kind === 'llama2c') return loadLlama2c(spec.bin, spec.tokenizer, shared);
  const name = spec.name ?? (await classifyLocalPath(spec.dir)).name;
  return loadModel({ kind: 'hf', dir: spec.dir, name, ...(spec.sha256 ? { sha256: spec.sha256 } : {}) }, shared);
}
