// The engine renders and tokenizes a chat that ends with an assistant prefill exactly as transformers'
// apply_chat_template(continue_final_message=True) + tokenizer(add_special_tokens=False) does — what vLLM sends to
// the model — on real vocabularies and the published chat templates of Mistral-7B-Instruct-v0.2, Llama-3.1-8B-Instruct
// and Qwen2.5-7B-Instruct. The reference (golden.json) was written by scripts/real-tokenizers.py with transformers;
// the tokenizer folders it builds (tokenizer.json is 3–17 MB, too large to commit) are read from
// SCLAB_REAL_TOKENIZERS (default ~/.cache/sclab/real-tokenizers). Without them these tests skip, saying so.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hfAddsBos, hfChatFormatter } from '../../src/core/engine/hf/load';
import { readTokenizerConfig } from '../../src/core/engine/hf/tokenizer-config';
import { loadHfTokenizer } from '../../src/core/engine/hf/tokenizer';
import { tokenizeText } from '../../src/core/engine/host';
import type { ChatMessage } from '../../src/core/model/chat';
import { SclabError } from '../../src/core/model/errors';

interface GoldenCase {
  name: string;
  messages: ChatMessage[];
  prefill: string;
  text?: string;
  ids?: number[];
  error?: string;
}
interface Golden {
  families: Record<string, { bos_id: number | null; cases: GoldenCase[] }>;
}

const golden = JSON.parse(readFileSync(join(__dirname, '../fixtures/real-tokenizers/golden.json'), 'utf8')) as Golden;
const root = process.env.SCLAB_REAL_TOKENIZERS ?? join(homedir(), '.cache/sclab/real-tokenizers');
const missing = Object.keys(golden.families).filter((f) => !existsSync(join(root, f, 'tokenizer.json')));
if (missing.length) {
  console.warn(`real-tokenizers: SKIPPED — no tokenizer folders for ${missing.join(', ')} under ${root}; build them with: python3 scripts/real-tokenizers.py LLAMA_CPP_DIR ${root} (see test/fixtures/real-tokenizers/README.md)`);
}

const loaded = new Map<string, ReturnType<typeof loadOnce>>();
const load = (family: string): ReturnType<typeof loadOnce> => {
  if (!loaded.has(family)) loaded.set(family, loadOnce(family));
  return loaded.get(family)!;
};

async function loadOnce(family: string) {
  const folder = join(root, family);
  const tc = await readTokenizerConfig(folder);
  const { tokenizer, postProcessorAddsBos } = await loadHfTokenizer(folder, tc, { bosTokenId: null, eosTokenIds: [] });
  return { tokenizer, chat: hfChatFormatter(family, folder, tc), addBos: hfAddsBos(tc, postProcessorAddsBos, tokenizer) };
}

for (const [family, g] of Object.entries(golden.families)) {
  describe.skipIf(missing.includes(family))(`real tokenizer and chat template: ${family}`, () => {
    for (const c of g.cases) {
      it(`${c.name}: the rendered text and ids equal a continue_final_message render`, async () => {
        const m = await load(family);
        expect(m.tokenizer.bosId).toBe(g.bos_id);
        const text = m.chat.render(c.messages, c.prefill);
        expect(text).toBe(c.text);
        const ids = tokenizeText(m.tokenizer, text, m.addBos);
        expect(ids).toEqual(c.ids);
        // exactly one BOS where the model has one, however the template writes it
        if (g.bos_id !== null) expect(ids.filter((id) => id === g.bos_id)).toHaveLength(1);
      });
    }
    it('the prefill is continued: the text ends with it as the template spaces it, never with an end-of-turn token', async () => {
      const m = await load(family);
      const text = m.chat.render([{ role: 'user', content: 'Hi' }], 'The answer is (');
      expect(text.endsWith('The answer is (')).toBe(true);
      expect(text).not.toMatch(/(<\/s>|<\|eot_id\|>|<\|im_end\|>)\s*The answer is \($/);
    });
  });
}

describe.skipIf(missing.includes('mistral-7b-instruct-v0.2'))('Mistral v0.2 template refusals are bad requests', () => {
  it('non-alternating roles: bad_request naming the template', async () => {
    const m = await load('mistral-7b-instruct-v0.2');
    let err: unknown;
    try {
      m.chat.render([{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }], 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SclabError);
    expect((err as SclabError).code).toBe('bad_request');
    expect((err as Error).message).toMatch(/roles must alternate/);
  });
});
