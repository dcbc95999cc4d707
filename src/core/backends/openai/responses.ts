// Tolerant readers of server answers: extra fields are ignored, optional fields may be missing or null, and an
// answer without what we need is a retryable 'malformed_response' (a truncated or garbled body usually is transient).
import { z } from 'zod';
import { SclabError } from '../../model/errors';

const TopEntry = z.object({ token: z.string(), logprob: z.number() });
const ChatTokenLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  top_logprobs: z.array(TopEntry).nullish(),
});
const Usage = z
  .object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() })
  .nullish()
  .catch(undefined);

const ChatResponse = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
        // an unreadable logprobs block only costs the optional alternatives, not the answer
        logprobs: z.object({ content: z.array(ChatTokenLogprob).nullish() }).nullish().catch(undefined),
      }),
    )
    .min(1),
  usage: Usage,
});
export type ChatResponse = z.infer<typeof ChatResponse>;

const CompletionResponse = z.object({
  choices: z
    .array(
      z.object({
        text: z.string().nullish(),
        logprobs: z
          .object({
            tokens: z.array(z.string()).nullish(),
            token_logprobs: z.array(z.number().nullable()).nullish(),
            text_offset: z.array(z.number()).nullish(),
          })
          .nullish(),
      }),
    )
    .min(1),
});
export type CompletionResponse = z.infer<typeof CompletionResponse>;

const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) });

function read<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const got = typeof body === 'string' ? 'a non-JSON body' : body === null || body === undefined ? 'an empty body' : 'JSON';
  const issue = parsed.error.issues[0];
  const where = issue ? ` (${issue.path.join('.') || 'body'}: ${issue.message})` : '';
  throw new SclabError('malformed_response', `${what}: the server answered ${got} we cannot read${where}`, { retryable: true });
}

export const readChatResponse = (body: unknown, what: string): ChatResponse => read(ChatResponse, body, what);
export const readCompletionResponse = (body: unknown, what: string): CompletionResponse => read(CompletionResponse, body, what);
export const readModelIds = (body: unknown, what: string): string[] => read(ModelList, body, what).data.map((m) => m.id);
