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

/**
 * A chat answer read without zod when it is plainly in the schema's shape (what every answer of a working server
 * is): each field the schema names has its type, and nothing would be caught (`.catch`) or refused. Anything else —
 * a missing or odd field, an unreadable logprobs block or usage — returns undefined and goes through the schema,
 * which decides and words the error. The answer comes back as it is, unknown fields included: its readers
 * (chatResult, firstPositionAlternatives) read only the schema's fields.
 */
function plainChatResponse(body: unknown): ChatResponse | undefined {
  if (!isObject(body)) return undefined;
  const { choices, usage } = body;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  for (const choice of choices as unknown[]) {
    if (!isObject(choice) || !isObject(choice.message) || !isNullishOr(choice.message.content, isString) || !isNullishOr(choice.finish_reason, isString)) return undefined;
    const logprobs = choice.logprobs;
    if (logprobs !== undefined && logprobs !== null) {
      if (!isObject(logprobs) || !isNullishOr(logprobs.content, (c) => Array.isArray(c) && c.every(isTokenLogprob))) return undefined;
    }
  }
  if (usage !== undefined && usage !== null) {
    if (!isObject(usage) || !isNullishOr(usage.prompt_tokens, isNumber) || !isNullishOr(usage.completion_tokens, isNumber)) return undefined;
  }
  // cast: every field ChatResponse declares was checked above against the schema's own rules
  return body as ChatResponse;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isString = (v: unknown): boolean => typeof v === 'string';
/** z.number(): finite numbers only */
const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isNullishOr = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || v === null || check(v);
const isTopEntry = (v: unknown): boolean => isObject(v) && isString(v.token) && isNumber(v.logprob);
const isTokenLogprob = (v: unknown): boolean =>
  isObject(v) && isString(v.token) && isNumber(v.logprob) && isNullishOr(v.top_logprobs, (t) => Array.isArray(t) && t.every(isTopEntry));

export const readChatResponse = (body: unknown, what: string): ChatResponse => plainChatResponse(body) ?? read(ChatResponse, body, what);
/** the schema alone, without the plain-shape shortcut: the reference the shortcut is tested against */
export const readChatResponseBySchema = (body: unknown, what: string): ChatResponse => read(ChatResponse, body, what);
export const readCompletionResponse = (body: unknown, what: string): CompletionResponse => read(CompletionResponse, body, what);
export const readModelIds = (body: unknown, what: string): string[] => read(ModelList, body, what).data.map((m) => m.id);
