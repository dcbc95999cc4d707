import { z } from 'zod';
import { ExperimentSchema } from './experiment';

export const CapabilitiesSchema = z.object({
  chat: z.boolean(),
  optionLogprobs: z.boolean(),
  topLogprobs: z.boolean(),
  /** continues an assistant prefill for one token with top-k log-probabilities: the label-probability rank */
  labelLogprobs: z.boolean().optional(),
  hiddenStates: z.boolean(),
  probeScores: z.boolean(),
  /** residual-stream interventions (steering, ablation) on generation, option scores and hidden states */
  steer: z.boolean().optional(),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

export const BackendDescriptionSchema = z.object({
  kind: z.enum(['openai', 'embedded', 'sidecar']),
  model: z.string(),
  /** never contains credentials */
  baseUrl: z.string().optional(),
  /** the exact model, where the backend can tell (embedded, sidecar): probe files are checked against it */
  identity: z
    .object({ name: z.string(), nLayers: z.number().int().positive(), dModel: z.number().int().positive(), weightsSha256: z.string() })
    .optional(),
  capabilities: CapabilitiesSchema,
  /**
   * whether the ids the probes read equal the generator's: at connect a sample conversation with a prefill is
   * tokenized on both sides (the generation server's POST /tokenize); a mismatch stops the run before it starts
   */
  tokenCheck: z
    .object({
      result: z.enum(['agree', 'skipped']),
      /** what was compared with what, in words */
      against: z.string(),
      tokens: z.number().int().nonnegative().optional(),
      reason: z.string().optional(),
    })
    .optional(),
  /** what probing found, in words: e.g. "completions echo: not supported (400)" */
  notes: z.array(z.string()).default([]),
});
export type BackendDescription = z.infer<typeof BackendDescriptionSchema>;

/** What a run's reader must know about one configured scorer: which model produced the numbers and how far to trust them. */
export const ScorerCardSchema = z.object({
  /** the key in records' scores, e.g. "toxicity" */
  name: z.string(),
  /** the scorer kind, e.g. "offline", "perspective" */
  scorer: z.string(),
  version: z.string(),
  /** true for the offline scorer shipped with sclab, used when an experiment names none */
  builtin: z.boolean().optional(),
  description: z.string().optional(),
  /** what the model was trained on, with each source's licence */
  trainingData: z.array(z.object({ name: z.string(), licence: z.string() })).optional(),
  /** agreement with a reference scorer (the Perspective API) measured on rows held out from training */
  agreement: z
    .object({
      reference: z.string(),
      heldOutRows: z.number().int().nonnegative(),
      spearmanContinuations: z.number(),
      spearmanPrompts: z.number(),
    })
    .optional(),
  /** where to go for something better, in words */
  advice: z.string().optional(),
  /** when `sclab scorer rescore` added these scores to a finished run */
  rescoredAt: z.string().optional(),
});
export type ScorerCard = z.infer<typeof ScorerCardSchema>;

export const RunStatusSchema = z.enum(['running', 'completed', 'cancelled', 'failed']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunManifestSchema = z.object({
  schema: z.literal('sclab.run/1'),
  id: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  toolVersion: z.string(),
  status: RunStatusSchema,
  experiment: ExperimentSchema,
  dataset: z.object({
    path: z.string(),
    sha256: z.string(),
    format: z.string(),
    items: z.number().int().nonnegative(),
  }),
  backend: BackendDescriptionSchema,
  settings: z.object({
    /** the most requests in flight */
    concurrency: z.number().int().positive(),
    /** requests / tokens per minute the run kept to, when limited */
    maxRpm: z.number().positive().optional(),
    maxTpm: z.number().positive().optional(),
    /** false when the in-flight limit was fixed (default: adaptive) */
    adaptive: z.boolean().optional(),
    requestTimeoutMs: z.number().int().positive(),
    maxRetries: z.number().int().nonnegative(),
    cache: z.boolean(),
    /** how gold ranks are computed in this run (experiment ranking.method resolved against the backend) */
    rankMethod: z.enum(['exact', 'label-logprob', 'approximate']).optional(),
  }),
  counts: z.object({
    planned: z.number().int().nonnegative(),
    recorded: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    cached: z.number().int().nonnegative(),
  }),
  /** why the run failed, when it did */
  failure: z.object({ code: z.string(), message: z.string() }).optional(),
  /** the scorers behind the records' scores (absent in runs made before sclab recorded them) */
  scorers: z.array(ScorerCardSchema).optional(),
  /** the resumes so far, oldest first */
  resumes: z.array(z.string()).default([]),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;
