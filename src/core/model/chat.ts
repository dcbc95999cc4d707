import { z } from 'zod';

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const DecodingSchema = z.object({
  /** 0 = greedy (the paper) */
  temperature: z.number().min(0).max(2).default(0),
  topP: z.number().gt(0).max(1).default(1),
  maxTokens: z.number().int().positive().default(8),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).default([]),
  /** how many first-token alternatives to ask for, where the backend can give them (approximate ranks) */
  topLogprobs: z.number().int().min(0).max(20).default(5),
});
export type Decoding = z.infer<typeof DecodingSchema>;
