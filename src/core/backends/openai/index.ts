export { createOpenAIBackend } from './backend';
export type { OpenAIBackendOptions, PrefillMode, PromptRenderer } from './options';
export { renderPlainTranscript } from './transcript';
export { parseRetryAfter } from './errors';
