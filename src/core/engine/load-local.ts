// Loads a model from a local spec: a llama2.c checkpoint given explicitly, or a path to a folder (or a .bin) that
// holds one. Hugging Face folders and names from the catalogue are resolved by resolve.ts once it exists.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SclabError } from '../model/errors';
import { loadLlama2c } from './llama2c';
import type { LoadedModel } from './types';

export type ModelSpec = string | { kind: 'llama2c'; bin: string; tokenizer: string } | { kind: 'hf'; dir: string };

export function describeModelSpec(spec: ModelSpec): string {
  if (typeof spec === 'string') return spec;
  return spec.kind === 'llama2c' ? spec.bin : spec.dir;
}

const isTokenizerFile = (f: string): boolean => /^(tok.*|tokenizer)\.bin$/i.test(f);

async function kindOf(p: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    throw new SclabError('model', `model path ${p} does not exist or cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

/** the llama2.c checkpoint and tokenizer a path names: a .bin file (tokenizer beside it) or a folder with both */
export async function findLlama2cFiles(p: string): Promise<{ bin: string; tokenizer: string }> {
  const kind = await kindOf(p);
  const dir = kind === 'dir' ? p : path.dirname(p);
  const files = (await readdir(dir)).sort();
  const tokenizers = files.filter(isTokenizerFile);
  let bin: string;
  if (kind === 'file') {
    bin = p;
  } else {
    if (files.includes('config.json')) {
      throw new SclabError('model', `${p} looks like a Hugging Face model folder (config.json); this build loads llama2.c checkpoints only`);
    }
    const bins = files.filter((f) => f.toLowerCase().endsWith('.bin') && !isTokenizerFile(f));
    if (bins.length !== 1) {
      throw new SclabError('model', `${p}: expected exactly one llama2.c checkpoint (*.bin besides tok*.bin), found ${bins.length === 0 ? 'none' : bins.join(', ')}`);
    }
    bin = path.join(dir, bins[0]!);
  }
  if (tokenizers.length !== 1) {
    throw new SclabError('model', `${dir}: expected exactly one llama2.c tokenizer (tok*.bin or tokenizer.bin), found ${tokenizers.length === 0 ? 'none' : tokenizers.join(', ')}`);
  }
  return { bin, tokenizer: path.join(dir, tokenizers[0]!) };
}

export async function loadLocalModel(spec: ModelSpec): Promise<LoadedModel> {
  if (typeof spec === 'string') {
    const { bin, tokenizer } = await findLlama2cFiles(spec);
    return loadLlama2c(bin, tokenizer);
  }
  if (spec.kind === 'llama2c') return loadLlama2c(spec.bin, spec.tokenizer);
  throw new SclabError('model', `${spec.dir}: Hugging Face folders are not loadable in this build (resolve.ts is missing)`);
}
