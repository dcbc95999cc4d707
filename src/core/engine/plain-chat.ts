// Chat format for models that ship no chat template (llama2.c story models, base models): role-labelled
// paragraphs, ending with the assistant label and the prefill the model continues.
import type { ChatMessage } from '../model/chat';
import type { ChatFormatter } from './types';

const LABEL: Record<ChatMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant' };

export const plainChat: ChatFormatter = {
  name: 'plain',
  render(messages: ChatMessage[], prefill: string): string {
    const turns = messages.map((m) => `${LABEL[m.role]}: ${m.content}\n\n`).join('');
    // No trailing space after the last colon without a prefill: SentencePiece and BPE attach a space to the next word.
    return `${turns}Assistant:${prefill ? ` ${prefill}` : ''}`;
  },
};
