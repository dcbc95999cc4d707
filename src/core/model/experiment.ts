import { z } from 'zod';
import { ChatMessageSchema, DecodingSchema } from './chat';

/** One turn's wording: the user text (a template over the item's fields) and the start of the assistant answer. */
export const TurnTemplateSchema = z.object({
  user: z.string(),
  prefill: z.string().default(''),
});
export type TurnTemplate = z.infer<typeof TurnTemplateSchema>;

/**
 * A residual-stream intervention during every forward pass of a condition's rounds (generation, option scores and
 * the probes' hidden states): the direction of one of the experiment's probes, per layer of a band, added with
 * strength alpha or projected out. A list of alphas is a sweep: the experiment file expands it into one condition per
 * value (named `<name>.alpha<value>`), so a resolved experiment (the manifest's) holds one number per condition.
 */
export const InterventionRefSchema = z.object({
  /** the name of one of the experiment's probes (its file's direction at each layer) */
  probe: z.string(),
  /** residual layers steered, "a-b" or "a" (inclusive; l = the output of decoder layer l) */
  layers: z.string().regex(/^\s*\d+\s*(-\s*\d+\s*)?$/, 'write the layer band as "a-b" or "a"'),
  /** strength in the residual stream's units (the direction is scaled to length 1); a list = a sweep */
  alpha: z.union([z.number(), z.array(z.number()).min(1)]).default(0),
  /** project the direction out instead of adding it (alpha is then ignored) */
  ablate: z.boolean().default(false),
  /** all: every token; input: from the round's input on (the history before this round's user turn is left alone) */
  positions: z.enum(['all', 'input']).default('all'),
});
export type InterventionRef = z.infer<typeof InterventionRefSchema>;

export const ConditionSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" or "-"'),
  /** what the condition is for; analysis uses it to pick the reference and the variants */
  kind: z.enum(['baseline', 'self-correct', 'control', 'variant']),
  /**
   * round r (0-based) uses turns[min(r, turns.length - 1)]; the history of every earlier round is carried into
   * each later one
   */
  turns: z.array(TurnTemplateSchema).min(1),
  rounds: z.number().int().min(1).max(50),
  description: z.string().optional(),
  intervention: InterventionRefSchema.optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const DatasetRefSchema = z.object({
  path: z.string(),
  /** auto = detect from name and content */
  format: z.enum(['auto', 'bbq-jsonl', 'bbq-ambig-tsv', 'winogender-templates', 'winogender-sentences', 'rtp-jsonl', 'generic']).default('auto'),
  /** keep only items whose field or meta value equals one of the given values, e.g. {contextCondition: [ambig]} */
  filter: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))).optional(),
  limit: z.number().int().positive().optional(),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

export const BackendRefSchema = z.object({
  kind: z.enum(['openai', 'embedded', 'sidecar']),
  model: z.string().optional(),
  baseUrl: z.string().optional(),
  /** name of the environment variable holding the key (the key itself never appears in a file) */
  apiKeyEnv: z.string().optional(),
  /** requests / tokens per minute the server allows; the run's requests wait for budget (the CLI's --max-rpm / --max-tpm win) */
  maxRpm: z.number().positive().optional(),
  maxTpm: z.number().positive().optional(),
});
export type BackendRef = z.infer<typeof BackendRefSchema>;

/** A probe applied during the run to the hidden states of every round's input (needs the hiddenStates capability). */
export const ProbeRefSchema = z.object({
  /** the key under which records store its scores */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" or "-"'),
  /** a *.probe.json file (schema sclab.probe/1); relative to the experiment file */
  path: z.string(),
  /** where in each layer to read the hidden state; default: what the probe was trained on */
  module: z.enum(['residual', 'attn', 'mlp']).optional(),
  /** the layers whose mean is the "band" score drawn against rounds (inclusive); default: the probe file's band */
  band: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
});
export type ProbeRef = z.infer<typeof ProbeRefSchema>;

/** A scorer applied to every generated response, e.g. toxicity. */
export const ScorerRefSchema = z.object({
  /** the key under which records store its score, e.g. "toxicity" */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" or "-"'),
  kind: z.enum(['perspective', 'openai-moderation', 'http', 'offline']),
  /** offline: the trained scorer file (none: the built-in scorer); openai-moderation: the moderation model */
  model: z.string().optional(),
  /** http: the endpoint that takes texts and returns scores */
  url: z.string().optional(),
  /** name of the environment variable holding the key (never the key itself) */
  apiKeyEnv: z.string().optional(),
  /** which of the scorer's attributes to record, e.g. TOXICITY (Perspective) or a category (moderation) */
  attribute: z.string().optional(),
  /** limits of the scorer's own service: requests in flight (default 4), requests and tokens per minute */
  concurrency: z.number().int().positive().optional(),
  maxRpm: z.number().positive().optional(),
  maxTpm: z.number().positive().optional(),
});
export type ScorerRef = z.infer<typeof ScorerRefSchema>;

export const ExperimentSchema = z.object({
  schema: z.literal('sclab.experiment/1').default('sclab.experiment/1'),
  name: z.string().default('experiment'),
  /** the preset this experiment started from, if any */
  preset: z.string().optional(),
  dataset: DatasetRefSchema,
  task: z.enum(['mcq', 'generation']),
  conditions: z.array(ConditionSchema).min(1),
  decoding: DecodingSchema.default(DecodingSchema.parse({})),
  /** messages put before the first user turn, e.g. a system prompt */
  preamble: z.array(ChatMessageSchema).default([]),
  /**
   * chat: real multi-turn messages with the prefill as the start of the assistant turn.
   * raw: the authors' style, one concatenated prompt string per round (sent as one user message)
   */
  conversation: z.enum(['chat', 'raw']).default('chat'),
  /**
   * paper: correct when the gold label occurs in the lower-cased answer (authors' rule; the first label found wins
   * for the parsed option). first-option: only the first label in the answer counts and a second different one makes
   * the answer ambiguous.
   */
  answerParsing: z.enum(['paper', 'first-option']).default('paper'),
  /** how the gold option's rank is computed (docs/numbers.md) */
  ranking: z
    .object({
      /**
       * auto: the best the backend offers — exact (option log-likelihoods), else label-logprob (one extra request per
       * round continuing the prefill plus " (", the options ranked by their label token's log-probability), else
       * approximate (read from the answer's own top-k at the token naming its option). A named method is used or the
       * run stops with a config error when the backend cannot give it.
       */
      method: z.enum(['auto', 'exact', 'label-logprob', 'approximate']).default('auto'),
      /** label: score " (a)" after the round input, as the authors did; label+text: " (a) The grandfather" */
      continuation: z.enum(['label', 'label+text']).default('label'),
      /** mean: rank by mean per-token log-likelihood (the authors' exp(-loss)); sum: by total log-likelihood */
      aggregate: z.enum(['mean', 'sum']).default('mean'),
    })
    .default({ method: 'auto', continuation: 'label', aggregate: 'mean' }),
  /**
   * the superficiality test (ours): equivalence margin ±m for "unchanged" (TOST) and the power of the minimal
   * detectable change. m = marginSd × the pooled sd of the paired values, unless an absolute margin is given.
   */
  superficiality: z
    .object({
      marginSd: z.number().positive().default(0.2),
      /** absolute margin for the probe's band score, in its own units (e.g. 0.005 cosine) */
      probeMargin: z.number().positive().optional(),
      /** absolute margin for the output metric (accuracy share or score) */
      outputMargin: z.number().positive().optional(),
      power: z.number().gt(0).lt(1).default(0.8),
    })
    .default({ marginSd: 0.2, power: 0.8 }),
  backend: BackendRefSchema.optional(),
  scorers: z.array(ScorerRefSchema).default([]),
  probes: z.array(ProbeRefSchema).default([]),
});
export type Experiment = z.infer<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;
