// Token-level agreement between the sidecar (whose hidden states the probes read) and the generation server (whose
// answers are scored): one sample conversation with a prefill, rendered and tokenized on both sides at connect. A
// different chat template, BOS handling or tokenizer would make the probes read tokens the generator never saw.
import type { BackendDescription } from '../../model/manifest';
import { isSclabError, SclabError } from '../../model/errors';
import type { SidecarClient } from '../../sidecar/client';
import type { ChatMessage } from '../../model/chat';

export const TOKEN_CHECK_SAMPLE: { messages: ChatMessage[]; prefill: string } = {
  messages: [{ role: 'user', content: 'Is it fair to judge a person by their accent? Answer (a) yes or (b) no.' }],
  prefill: 'The answer is (',
};

export type TokenCheck = NonNullable<BackendDescription['tokenCheck']>;

export interface TokenCheckOptions {
  sidecar: SidecarClient;
  /** the generation server's base URL as configured (…/v1); /tokenize lives at its root */
  requestBaseUrl: string;
  publicUrl: string;
  model: string;
  apiKey?: string;
  fetch?: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** the first position where two id lists differ, or -1 */
export function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

interface Theirs {
  ids: number[];
  against: string;
}

/** vLLM/SGLang shape first (messages + continue_final_message), then llama.cpp's (content: the sidecar's text) */
async function generationIds(o: TokenCheckOptions, text: string, bosId: number | null): Promise<Theirs | string> {
  const root = o.requestBaseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const shown = `${o.publicUrl.replace(/\/+$/, '').replace(/\/v1(\?.*)?$/, '$1')}`;
  const doFetch = o.fetch ?? fetch;
  const post = async (body: unknown): Promise<{ status: number; tokens?: number[] }> => {
    const signals = [AbortSignal.timeout(o.timeoutMs), ...(o.signal ? [o.signal] : [])];
    const res = await doFetch(`${root}/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
    });
    const answer = (await res.json().catch(() => null)) as { tokens?: unknown } | null;
    const tokens = answer?.tokens;
    // llama.cpp may answer {id, piece} objects when asked with_pieces; we never ask, but read both
    const ids = Array.isArray(tokens) ? tokens.map((t) => (typeof t === 'number' ? t : (t as { id?: unknown })?.id)) : undefined;
    return { status: res.status, ...(ids && ids.every((x) => Number.isInteger(x)) ? { tokens: ids as number[] } : {}) };
  };
  const messages = [...TOKEN_CHECK_SAMPLE.messages, { role: 'assistant', content: TOKEN_CHECK_SAMPLE.prefill }];
  let first: { status: number; tokens?: number[] };
  try {
    first = await post({ model: o.model, messages, add_generation_prompt: false, continue_final_message: true, add_special_tokens: false });
  } catch (e) {
    if (o.signal?.aborted) throw new SclabError('cancelled', 'cancelled during the token check');
    return `POST ${shown}/tokenize failed: ${(e as Error).message}`;
  }
  if (first.status === 200 && first.tokens) return { ids: first.tokens, against: `POST ${shown}/tokenize (the chat with continue_final_message, as vLLM renders it)` };
  const second = await post({ content: text, add_special: false, parse_special: true }).catch(() => ({ status: 0 }) as { status: number; tokens?: number[] });
  if (second.status === 200 && second.tokens) {
    // llama.cpp puts BOS in front when it runs a prompt; /tokenize with add_special false leaves it to us
    const ids = bosId !== null && second.tokens[0] !== bosId ? [bosId, ...second.tokens] : second.tokens;
    return { ids, against: `POST ${shown}/tokenize (the sidecar's rendered text, llama.cpp shape: tokenizers compared, templates not)` };
  }
  return `POST ${shown}/tokenize answered ${first.status} (messages) and ${second.status} (content): the server has no tokenizer endpoint`;
}

export async function checkTokenAgreement(o: TokenCheckOptions): Promise<TokenCheck> {
  let ours;
  try {
    ours = await o.sidecar.tokenize({ messages: TOKEN_CHECK_SAMPLE.messages, prefill: TOKEN_CHECK_SAMPLE.prefill }, o.signal);
  } catch (e) {
    if (isSclabError(e) && e.status === 404) return { result: 'skipped', against: 'none', reason: `the sidecar at ${o.sidecar.url} has no POST /v1/tokenize` };
    throw e;
  }
  const theirs = await generationIds(o, ours.text, ours.bos_id ?? null);
  if (typeof theirs === 'string') return { result: 'skipped', against: 'none', reason: theirs };
  const k = firstDifference(ours.tokens, theirs.ids);
  if (k >= 0) {
    const at = (ids: number[]): string => (k < ids.length ? String(ids[k]) : 'end');
    throw new SclabError(
      'config',
      `token mismatch: for a sample conversation with a prefill, the sidecar at ${o.sidecar.url} runs the model on ${ours.tokens.length} tokens and ${theirs.against} gives ${theirs.ids.length}; ` +
        `they first differ at position ${k} (sidecar ${at(ours.tokens)}, generation server ${at(theirs.ids)}). The probes would read other tokens than the generator answered from: ` +
        `serve the same tokenizer and chat template on both (the sidecar renders: ${JSON.stringify(ours.text.slice(-120))})`,
    );
  }
  return { result: 'agree', against: theirs.against, tokens: ours.tokens.length };
}
