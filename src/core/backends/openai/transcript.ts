import type { ChatMessage } from '../../model/chat';

/**
 * The prompt used for option scoring when the caller gives no chat template: one `role: content` block per
 * message, then `assistant:` and the prefill. Continuations (e.g. " (a)") are appended to this text directly.
 * It is not the model's own chat template, so exact option scores rest on a format the model may not have seen;
 * the backend says so in its description notes.
 */
export function renderPlainTranscript(messages: ChatMessage[], prefill: string): string {
  const turns = messages.map((m) => `${m.role}: ${m.content}`);
  turns.push(prefill ? `assistant: ${prefill}` : 'assistant:');
  return turns.join('\n\n');
}
