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
  /** what probing found, in words: e.g. "completions echo: not supported (400)" */
  notes: z.array(z.string()).default([]),
});
export type BackendDescription = z.infer<typeof BackendDescriptionSchema>;

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
    concurrency: z.number().int().positive(),
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
  /** the resumes so far, oldest first */
  resumes: z.array(z.string()).default([]),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;
