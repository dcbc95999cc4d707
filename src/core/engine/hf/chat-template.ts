// Chat formatting with the model's own Jinja chat template (tokenizer_config.json "chat_template"), rendered as the
// OpenAI-compatible servers (vLLM, SGLang, llama.cpp) render a chat request: a prefill is a final assistant message
// continued with `continue_final_message` (transformers' apply_chat_template semantics), not text glued after the
// generation prompt — templates space or trim the assistant content (Mistral v0.2 writes `[/INST] ` + content,
// Llama-3 trims it), and the generator answers after exactly that text.
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
 * Cuts a rendered chat after the final message's content, as transformers' `continue_final_message` does: the last
 * occurrence of the stripped content; its leading spaces as the template wrote them; trailing spaces kept only when
 * the template kept them.
 */
export function continueFinalMessage(rendered: string, finalContent: string, where: string): string {
  const stripped = finalContent.trim();
  const at = rendered.lastIndexOf(stripped);
  if (at < 0) {
    throw new SclabError('bad_request', `${where}: the assistant prefill does not appear in the rendered chat, so it cannot be continued (the template rewrites it)`);
  }
  const left = finalContent.trimStart();
  return rendered.slice(at, at + left.length) === left ? rendered.slice(0, at + left.length) : rendered.slice(0, at + stripped.length);
}

export function jinjaChatFormatter(name: string, source: string, template: string, tokens: TemplateTokens): ChatFormatter {
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    throw new SclabError('model', `${source}: the chat template does not parse: ${(e as Error).message}`, { cause: e });
  }
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tokens)) if (typeof v === 'string') vars[k] = v;
  const apply = (messages: ChatMessage[], addGenerationPrompt: boolean): string => {
    try {
      return compiled.render({ ...vars, messages: messages.map((m) => ({ role: m.role, content: m.content })), add_generation_prompt: addGenerationPrompt });
    } catch (e) {
      // Templates refuse some conversations on purpose (e.g. Mistral's "roles must alternate").
      throw new SclabError('bad_request', `the chat template of ${name} refused the conversation: ${(e as Error).message}`, { cause: e });
    }
  };
  return {
    name,
    // The text keeps any BOS the template writes: the tokenizer maps it to the BOS id and the engine adds BOS only
    // where it is missing, as the serving engines tokenize a rendered chat (add_special_tokens=False).
    render(messages: ChatMessage[], prefill: string): string {
      // An empty prefill is no assistant message at all (the OpenAI backend sends none): the generation prompt.
      if (!prefill.trim()) return apply(messages, true) + prefill;
      return continueFinalMessage(apply([...messages, { role: 'assistant', content: prefill }], false), prefill, `the chat template of ${name}`);
    },
  };
}
