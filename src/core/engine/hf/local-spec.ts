// Turns a local path into a model reference: a Hugging Face folder (config.json) or a llama2.c checkpoint
// (a .bin with a tok*.bin tokenizer beside it, or a folder holding one of each).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SclabError } from '../../model/errors';

export type LocalModel = { kind: 'llama2c'; bin: string; tokenizer: string; name: string } | { kind: 'hf'; dir: string; name: string };

const isTokenizerBin = (f: string) => /^tok.*\.bin$/i.test(f);
const isCheckpointBin = (f: string) => /\.bin$/i.test(f) && !isTokenizerBin(f) && !/^pytorch_model.*\.bin$/i.test(f);

async function hfName(dir: string): Promise<string> {
  try {
    const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { _name_or_path?: unknown };
    if (typeof c._name_or_path === 'string' && c._name_or_path.trim() !== '') return c._name_or_path;
  } catch {
    // the loader reports a bad config.json with its own message
  }
  return basename(dir);
}

function pickTokenizer(dir: string, entries: string[], what: string): string {
  const toks = entries.filter(isTokenizerBin).sort();
  if (toks.length === 1) return join(dir, toks[0]!);
  if (toks.length === 0) throw new SclabError('model', `${what}: no llama2.c tokenizer (tok*.bin, e.g. tok512.bin or tokenizer.bin) in ${dir}`);
  throw new SclabError('model', `${what}: several tokenizers in ${dir} (${toks.join(', ')}); keep one, or put the checkpoint and its tokenizer in a folder of their own`);
}

export async function classifyLocalPath(path: string): Promise<LocalModel> {
  const s = await stat(path).catch(() => null);
  if (!s) throw new SclabError('model', `${path} does not exist`);
  if (s.isDirectory()) {
    const entries = await readdir(path);
    if (entries.includes('config.json')) return { kind: 'hf', dir: path, name: await hfName(path) };
    const bins = entries.filter(isCheckpointBin).sort();
    if (bins.length === 1) {
      return { kind: 'llama2c', bin: join(path, bins[0]!), tokenizer: pickTokenizer(path, entries, path), name: bins[0]!.replace(/\.bin$/i, '') };
    }
    if (bins.length > 1) throw new SclabError('model', `${path} holds several llama2.c checkpoints (${bins.join(', ')}); pass the .bin file itself`);
    throw new SclabError('model', `${path} is neither a Hugging Face model folder (no config.json) nor a llama2.c folder (no *.bin checkpoint with a tok*.bin tokenizer)`);
  }
  const name = basename(path);
  const dir = dirname(path);
  if (/\.bin$/i.test(name) && !isTokenizerBin(name)) {
    return { kind: 'llama2c', bin: path, tokenizer: pickTokenizer(dir, await readdir(dir), path), name: name.replace(/\.bin$/i, '') };
  }
  if (name === 'config.json' || /\.safetensors$/i.test(name)) return classifyLocalPath(dir);
  throw new SclabError('model', `${path}: expected a model folder, a llama2.c .bin checkpoint, or a Hugging Face config.json/.safetensors file`);
}
