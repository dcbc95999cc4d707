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

// ---------------------------------------------------------------- a fast check for reading large runs
// RoundRecordSchema.safeParse costs about a third of reading a line of records.jsonl (the top-k alternatives are
// dozens of small objects). A line the tool wrote is already in the schema's exact shape: every default present, no
// unknown key. For such a value this check says yes, and it is then what the schema would give (same keys and
// values; only zod's key order differs, so use it where records are read, not written back). Anything else (an
// old record lacking a default, an unknown key, a bad value) gets a no, and goes through the schema, which gives
// the value or the error.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);
const arrayOf = (v: unknown, each: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(each);
/** own keys all among `known` (and no "__proto__", which zod's records treat apart) */
function onlyKeys(o: Obj, known: ReadonlySet<string>): boolean {
  for (const k in o) if (!known.has(k) || k === '__proto__') return false;
  return true;
}

const RECORD_KEYS = new Set(Object.keys(RoundRecordSchema.shape));
const MESSAGE_KEYS = new Set(['role', 'content']);
const ANSWER_KEYS = new Set(['index', 'label']);
const REQUEST_KEYS = new Set(['request', 'attempts']);
const TOKEN_KEYS = new Set(['token', 'logprob']);
const OPTION_KEYS = new Set(['method', 'logprobs', 'tokenCounts', 'aggregate', 'goldRank']);
const PROBE_KEYS = new Set(Object.keys(ProbeScoresSchema.shape));
const SCORE_KEYS = new Set(Object.keys(ResponseScoreSchema.shape));
const ERROR_KEYS = new Set(['code', 'message']);

const isAnswer = (v: unknown): boolean => isObj(v) && onlyKeys(v, ANSWER_KEYS) && isInt(v.index, 0) && isStr(v.label);
const isMessage = (v: unknown): boolean => isObj(v) && onlyKeys(v, MESSAGE_KEYS) && (v.role === 'system' || v.role === 'user' || v.role === 'assistant') && isStr(v.content);
const isRequest = (v: unknown): boolean => isObj(v) && onlyKeys(v, REQUEST_KEYS) && isStr(v.request) && isInt(v.attempts, 1);
const isAlternative = (v: unknown): boolean => isObj(v) && onlyKeys(v, TOKEN_KEYS) && isStr(v.token) && isNum(v.logprob);

function isOptionScores(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, OPTION_KEYS) &&
    (v.method === 'exact' || v.method === 'label-logprob' || v.method === 'approximate') &&
    arrayOf(v.logprobs, isNumOrNull) &&
    (v.tokenCounts === undefined || arrayOf(v.tokenCounts, (x) => isInt(x, 0))) &&
    (v.aggregate === undefined || v.aggregate === 'mean' || v.aggregate === 'sum') &&
    (v.goldRank === null || isInt(v.goldRank, 1))
  );
}

function isProbeScores(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, PROBE_KEYS) &&
    (v.module === 'residual' || v.module === 'attn' || v.module === 'mlp') &&
    (v.position === 'last' || v.position === 'mean') &&
    arrayOf(v.layers, (x) => isInt(x, 0)) &&
    arrayOf(v.cosine, isNumOrNull) &&
    (v.probability === undefined || arrayOf(v.probability, isNumOrNull)) &&
    (v.band === undefined || (Array.isArray(v.band) && v.band.length === 2 && isInt(v.band[0], 0) && isInt(v.band[1], 0))) &&
    (v.moralDirection === undefined || v.moralDirection === 'lower' || v.moralDirection === 'higher')
  );
}

const isScore = (v: unknown): boolean => isObj(v) && onlyKeys(v, SCORE_KEYS) && isNumOrNull(v.value) && isStr(v.scorer) && isStr(v.version) && (v.error === undefined || isStr(v.error));
function isRecordOf(v: unknown, each: (x: unknown) => boolean): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (k === '__proto__' || !each(v[k])) return false;
  return true;
}

/** True when `v` (parsed JSON) is a round record exactly as the schema would give it back (see above). */
export function isCanonicalRoundRecord(v: unknown): v is RoundRecord {
  if (!isObj(v) || !onlyKeys(v, RECORD_KEYS)) return false;
  return (
    isStr(v.itemId) &&
    isStr(v.condition) &&
    isInt(v.round, 0) &&
    arrayOf(v.messages, isMessage) &&
    isStr(v.prefill) &&
    isStr(v.response) &&
    (v.answer === null || isAnswer(v.answer)) &&
    (v.answerFirstOption === undefined || v.answerFirstOption === null || isAnswer(v.answerFirstOption)) &&
    (v.correct === null || typeof v.correct === 'boolean') &&
    isNum(v.latencyMs) &&
    v.latencyMs >= 0 &&
    isInt(v.attempts, 1) &&
    (v.requests === undefined || arrayOf(v.requests, isRequest)) &&
    typeof v.cached === 'boolean' &&
    (v.finishReason === undefined || isStr(v.finishReason)) &&
    (v.topLogprobs === undefined || arrayOf(v.topLogprobs, (pos) => arrayOf(pos, isAlternative))) &&
    (v.generatedTokens === undefined || arrayOf(v.generatedTokens, isStr)) &&
    (v.optionScores === undefined || isOptionScores(v.optionScores)) &&
    (v.probes === undefined || isRecordOf(v.probes, isProbeScores)) &&
    (v.scores === undefined || isRecordOf(v.scores, isScore)) &&
    (v.error === undefined || (isObj(v.error) && onlyKeys(v.error, ERROR_KEYS) && isStr(v.error.code) && isStr(v.error.message))) &&
    isStr(v.at)
  );
}
