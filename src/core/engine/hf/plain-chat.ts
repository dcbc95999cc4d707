// Chat format for models that ship no chat template (base models, story models): role-labelled paragraphs.
// A fallback kept inside hf/ so HF loading does not depend on the rest of the engine.
import type { ChatMessage } from '../../model/chat';
import type { ChatFormatter } from '../types';

const LABEL: Record<ChatMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant' };

export const plainChatFallback: ChatFormatter = {
  name: 'plain',
  render(messages: ChatMessage[], prefill: string): string {
    const turns = messages.map((m) => `${LABEL[m.role]}: ${m.content}\n\n`).join('');
    // No space after the final colon unless there is prefill: BPE tokenizers attach the space to the next word.
    return `${turns}Assistant:${prefill ? ` ${prefill}` : ''}`;
  },
};
