// The engine's Tokenizer over a Hugging Face tokenizer.json, via @huggingface/tokenizers.
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { join } from 'node:path';
import { SclabError } from '../../model/errors';
import type { Tokenizer } from '../types';
import { readJson, type TokenizerConfig } from './tokenizer-config';

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;

  constructor(
    private readonly tok: HfJsTokenizer,
    readonly bosId: number | null,
    readonly eosIds: number[],
    readonly specialIds: ReadonlySet<number>,
    private readonly cleanUpSpaces: boolean,
    private readonly source: string,
  ) {
    let max = -1;
    for (const id of tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  encode(text: string): number[] {
    // Special tokens written in the text (a chat template's <|im_start|>) still map to their ids; only the
    // post-processor's automatic BOS/EOS is left out — the engine adds BOS itself where addBos says so.
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    for (const id of ids) {
      if (!Number.isInteger(id)) throw new SclabError('model', `${this.source}: the tokenizer has no id for part of ${JSON.stringify(text.slice(0, 80))} and no unk_token`);
    }
    return ids;
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  tokenId(piece: string): number | undefined {
    return this.tok.token_to_id(piece);
  }
}

/** Whether tokenizer.json's post-processor puts a special token before the text (how fast tokenizers add BOS). */
export function postProcessorAddsBos(tokenizerJson: unknown): boolean {
  const pp = (tokenizerJson as { post_processor?: unknown } | null)?.post_processor as Record<string, unknown> | null | undefined;
  const templates = pp?.type === 'Sequence' ? ((pp.processors as Record<string, unknown>[] | undefined) ?? []) : pp ? [pp] : [];
  return templates.some((p) => {
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return false;
    const first = p.single[0] as { SpecialToken?: unknown } | undefined;
    return first?.SpecialToken !== undefined;
  });
}

export interface HfTokenizerLoad {
  tokenizer: HfTokenizer;
  /** what tokenizer.json's post-processor would do when no add_bos_token is given */
  postProcessorAddsBos: boolean;
}

export async function loadHfTokenizer(
  dir: string,
  tc: TokenizerConfig,
  ids: { bosTokenId: number | null; eosTokenIds: number[] },
): Promise<HfTokenizerLoad> {
  const file = join(dir, 'tokenizer.json');
  const json = await readJson(file);
  let tok: HfJsTokenizer;
  try {
    tok = new HfJsTokenizer(json as object, tc.raw);
  } catch (e) {
    throw new SclabError('model', `${file}: cannot build the tokenizer: ${(e as Error).message}`, { cause: e });
  }
  const idOf = (piece: string | null, field: string): number | null => {
    if (piece === null) return null;
    const id = tok.token_to_id(piece);
    if (id === undefined) throw new SclabError('model', `${join(dir, 'tokenizer_config.json')}: ${field} ${JSON.stringify(piece)} is not in tokenizer.json's vocabulary`);
    return id;
  };
  const bosId = tc.declaresBos ? idOf(tc.bosToken, 'bos_token') : ids.bosTokenId;
  const eos = new Set<number>();
  const eosFromConfig = idOf(tc.eosToken, 'eos_token');
  if (eosFromConfig !== null) eos.add(eosFromConfig);
  for (const id of ids.eosTokenIds) eos.add(id);
  // tokenizer.json's added tokens marked special, plus BOS/EOS wherever they were named
  const special = new Set<number>([...eos, ...(bosId !== null ? [bosId] : [])]);
  for (const t of ((json as { added_tokens?: unknown }).added_tokens ?? []) as Array<{ id?: unknown; special?: unknown }>) {
    if (t && t.special === true && typeof t.id === 'number') special.add(t.id);
  }
  return {
    tokenizer: new HfTokenizer(tok, bosId, [...eos], special, tc.cleanUpTokenizationSpaces, file),
    postProcessorAddsBos: postProcessorAddsBos(json),
  };
}
