// Chat formatting with the model's own Jinja chat template (tokenizer_config.json "chat_template").
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../../model/chat';
import { SclabError } from '../../model/errors';
import type { ChatFormatter } from '../types';

export interface TemplateTokens {
  bos_token?: string | null;
  eos_token?: string | null;
  unk_token?: string | null;
  pad_token?: string | null;
}

/**
 * @param stripBos when set, a rendered text that starts with this BOS string loses it: the engine adds the BOS
 *   id itself (addBos), and a template that also writes it would otherwise give the model two.
 */
export function jinjaChatFormatter(name: string, source: string, template: string, tokens: TemplateTokens, stripBos: string | null): ChatFormatter {
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    throw new SclabError('model', `${source}: the chat template does not parse: ${(e as Error).message}`, { cause: e });
  }
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tokens)) if (typeof v === 'string') vars[k] = v;
  return {
    name,
    render(messages: ChatMessage[], prefill: string): string {
      let text: string;
      try {
        text = compiled.render({ ...vars, messages: messages.map((m) => ({ role: m.role, content: m.content })), add_generation_prompt: true });
      } catch (e) {
        // Templates refuse some conversations on purpose (e.g. Mistral's "roles must alternate").
        throw new SclabError('bad_request', `the chat template of ${name} refused the conversation: ${(e as Error).message}`, { cause: e });
      }
      if (stripBos && text.startsWith(stripBos)) text = text.slice(stripBos.length);
      return text + prefill;
    },
  };
}
