// Reads tokenizer_config.json (and chat_template.jinja) into the few fields the engine needs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SclabError } from '../../model/errors';

export interface TokenizerConfig {
  /** the raw JSON with special tokens flattened to strings (what @huggingface/tokenizers expects) */
  raw: Record<string, unknown>;
  bosToken: string | null;
  eosToken: string | null;
  /** true when the file names bos_token at all (even as null): then it, not config.json, decides the BOS id */
  declaresBos: boolean;
  addBosToken: boolean | undefined;
  chatTemplate: string | null;
  cleanUpTokenizationSpaces: boolean;
}

const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

/** Older files store special tokens as AddedToken objects {content: "<s>", ...}. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SclabError('model', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SclabError('model', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseJson(text, file);
}

/** undefined when the file does not exist; an error when it exists but is unreadable or not JSON. */
export async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SclabError('model', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseJson(text, file);
}

/** A template may be a string or a list of named templates ({name, template}); "default" is the chat one. */
function pickTemplate(v: unknown, file: string): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v as Array<{ name?: unknown; template?: unknown }>;
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    if (chosen && typeof chosen.template === 'string') return chosen.template;
  }
  throw new SclabError('model', `${file}: field "chat_template" is neither a string nor a list of {name, template}`);
}

export async function readTokenizerConfig(dir: string): Promise<TokenizerConfig> {
  const file = join(dir, 'tokenizer_config.json');
  const json = ((await readJsonIfPresent(file)) ?? {}) as Record<string, unknown>;
  if (typeof json !== 'object' || Array.isArray(json)) throw new SclabError('model', `${file}: not a JSON object`);
  const raw: Record<string, unknown> = { ...json };
  for (const key of SPECIAL_KEYS) if (key in raw) raw[key] = tokenString(raw[key]);
  // transformers ≥ 4.43 may save the template beside the config instead of inside it.
  let chatTemplate = pickTemplate(json.chat_template, file);
  if (chatTemplate === null) {
    try {
      chatTemplate = await readFile(join(dir, 'chat_template.jinja'), 'utf8');
    } catch {
      chatTemplate = null;
    }
  }
  const addBos = json.add_bos_token;
  if (addBos !== undefined && typeof addBos !== 'boolean') {
    throw new SclabError('model', `${file}: field "add_bos_token" must be true or false`);
  }
  return {
    raw,
    bosToken: tokenString(json.bos_token),
    eosToken: tokenString(json.eos_token),
    declaresBos: 'bos_token' in json,
    addBosToken: addBos,
    chatTemplate,
    cleanUpTokenizationSpaces: json.clean_up_tokenization_spaces === true,
  };
}
