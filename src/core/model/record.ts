import { z } from 'zod';
import { ChatMessageSchema } from './chat';

export const ParsedAnswerSchema = z.object({ index: z.number().int().nonnegative(), label: z.string() });
export type ParsedAnswer = z.infer<typeof ParsedAnswerSchema>;

export const TopLogprobSchema = z.object({ token: z.string(), logprob: z.number() });

/** One finished item × condition × round: one line of records.jsonl. */
export const RoundRecordSchema = z.object({
  itemId: z.string(),
  condition: z.string(),
  /** 0 = the first turn */
  round: z.number().int().nonnegative(),
  /** the whole conversation sent for this round, history included, ending with this round's user turn */
  messages: z.array(ChatMessageSchema),
  /** the start of the assistant answer the model continued from */
  prefill: z.string(),
  /** what the model wrote after the prefill; "" for an error record */
  response: z.string(),
  /** the option the paper's rule (or the configured rule) found, or null */
  answer: ParsedAnswerSchema.nullable(),
  /** the stricter first-option rule's reading, always recorded so the two can be compared */
  answerFirstOption: ParsedAnswerSchema.nullable().optional(),
  /** null for generation items, unparsed answers and errors */
  correct: z.boolean().nullable(),
  latencyMs: z.number().nonnegative(),
  attempts: z.number().int().positive().default(1),
  /** true when the response came from the content-addressed cache */
  cached: z.boolean().default(false),
  finishReason: z.string().optional(),
  /** first generated tokens' top-k alternatives, when the backend gave them */
  topLogprobs: z.array(z.array(TopLogprobSchema)).optional(),
  /** per-option scores and the gold option's rank; added by backends that can rank */
  optionScores: z
    .object({
      /** exact: log-likelihood of each option continuation; approximate: from first-token top-k */
      method: z.enum(['exact', 'approximate']),
      logprobs: z.array(z.number().nullable()),
      goldRank: z.number().int().positive().nullable(),
    })
    .optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** ISO time the line was written */
  at: z.string(),
});
export type RoundRecord = z.infer<typeof RoundRecordSchema>;
