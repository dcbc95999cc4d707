import { z } from 'zod';
import { ChatMessageSchema } from './chat';

export const ParsedAnswerSchema = z.object({ index: z.number().int().nonnegative(), label: z.string() });
export type ParsedAnswer = z.infer<typeof ParsedAnswerSchema>;

export const TopLogprobSchema = z.object({ token: z.string(), logprob: z.number() });

/** Probe scores of one probe at every requested layer, on the round input before the answer is generated. */
export const ProbeScoresSchema = z.object({
  /** residual stream, attention output or MLP output */
  module: z.enum(['residual', 'attn', 'mlp']),
  position: z.enum(['last', 'mean']),
  /** layer numbers as the probe file names them (residual: 0 = embeddings) */
  layers: z.array(z.number().int().nonnegative()),
  /** cosine similarity between the probe's direction and the hidden state, per layer (the paper's measure) */
  cosine: z.array(z.number().nullable()),
  /** the per-layer logistic probe's probability of the positive class, where the probe file has one */
  probability: z.array(z.number().nullable()).optional(),
  /** the probe file's own layer band, the default band of analysis */
  band: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
  /** the probe file's sign convention: which way of its score is more moral (absent: lower) */
  moralDirection: z.enum(['lower', 'higher']).optional(),
});
export type ProbeScores = z.infer<typeof ProbeScoresSchema>;

/** One scorer's verdict on the response (e.g. toxicity), with the scorer's identity so numbers stay comparable. */
export const ResponseScoreSchema = z.object({
  value: z.number().nullable(),
  scorer: z.string(),
  version: z.string(),
  error: z.string().optional(),
});
export type ResponseScore = z.infer<typeof ResponseScoreSchema>;

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
  /**
   * the option the configured rule read (paper: the gold option when its label occurs, else the earliest label), or
   * null when the answer names none; accuracy, bias counts and pronoun rates all read this one option
   */
  answer: ParsedAnswerSchema.nullable(),
  /** the stricter first-option rule's reading, always recorded so the two can be compared */
  answerFirstOption: ParsedAnswerSchema.nullable().optional(),
  /** answer = gold; an unparsed answer (answer null) is false (wrong, as in the paper); null for generation items, items without gold and errors */
  correct: z.boolean().nullable(),
  latencyMs: z.number().nonnegative(),
  /** the tries the round took: one, plus every retry of any of its requests */
  attempts: z.number().int().positive().default(1),
  /** each request of the round (chat, each option's scoring request, probes, scorers) and the attempts it took */
  requests: z.array(z.object({ request: z.string(), attempts: z.number().int().positive() })).optional(),
  /** true when the response came from the content-addressed cache */
  cached: z.boolean().default(false),
  finishReason: z.string().optional(),
  /** first generated tokens' top-k alternatives, when the backend gave them */
  topLogprobs: z.array(z.array(TopLogprobSchema)).optional(),
  /** the tokens generated at those positions (the approximate rank is read where one of them names an option) */
  generatedTokens: z.array(z.string()).optional(),
  /** per-option scores and the gold option's rank; added by backends that can rank */
  optionScores: z
    .object({
      /**
       * exact: summed log-likelihood of each option's continuation; label-logprob: the log-probability of each
       * option's label token after the prefill and the answer format's opening (null = outside the top k: censored);
       * approximate: written by older versions only (re-read from topLogprobs)
       */
      method: z.enum(['exact', 'label-logprob', 'approximate']),
      logprobs: z.array(z.number().nullable()),
      /** tokens in each option's continuation (exact), so a mean or sum re-ranking from the record is exact */
      tokenCounts: z.array(z.number().int().nonnegative()).optional(),
      /** the aggregate goldRank was computed with (exact) */
      aggregate: z.enum(['mean', 'sum']).optional(),
      /** best rank convention: ties share the best rank they span; a censored gold ranks below every listed option */
      goldRank: z.number().int().positive().nullable(),
    })
    .optional(),
  /** probe name → scores; present when the experiment configures probes */
  probes: z.record(z.string(), ProbeScoresSchema).optional(),
  /** scorer name (e.g. "toxicity") → score of the response; present when the experiment configures scorers */
  scores: z.record(z.string(), ResponseScoreSchema).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** ISO time the line was written */
  at: z.string(),
});
export type RoundRecord = z.infer<typeof RoundRecordSchema>;
