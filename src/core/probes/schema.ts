// The probe file `*.probe.json`, schema sclab.probe/1 (DESIGN.md §3). Browser-safe.
//
// A probe is tied to one model (name, layer count, width, weights hash) and one place in it (module, last token).
// Each layer entry holds a vector in the model's raw hidden-state space — the same space the backend returns, so a
// run can score a hidden state without any preprocessing:
//   cosine      = cos(weights, h)                       (the paper's measure; every probe yields it)
//   probability = sigmoid(weights · h + bias)           (kind 'logistic' only: a per-layer trained classifier)
// Vectors are stored as base64 of little-endian float32 (what sclab writes) or as plain JSON number arrays (handy
// for hand-made probes); both decode to the same thing.
import { z } from 'zod';

export const PROBE_SCHEMA = 'sclab.probe/1';

const StoredVectorSchema = z.union([z.string().min(1), z.array(z.number())]);

export const ProbeModelSchema = z.object({
  name: z.string(),
  nLayers: z.number().int().positive(),
  dModel: z.number().int().positive(),
  weightsSha256: z.string(),
});
export type ProbeModel = z.infer<typeof ProbeModelSchema>;

export const ProbeLayerSchema = z.object({
  /** residual: 0 = embeddings, l = after layer l; attn/mlp: 1…nLayers */
  layer: z.number().int().nonnegative(),
  /** the direction (logistic: the classifier's weight vector) in raw hidden-state space, dModel numbers */
  weights: StoredVectorSchema,
  /** logistic intercept in raw space; null for pure directions (no probability) */
  bias: z.number().nullable(),
  /** accuracy on the held-out split; null where no classifier was evaluated at this layer */
  heldOutAccuracy: z.number().min(0).max(1).nullable(),
  trainAccuracy: z.number().min(0).max(1).nullable().optional(),
});
export type ProbeLayer = z.infer<typeof ProbeLayerSchema>;

/** contrast: mean(states of the positive texts) − mean(states of the negative texts) per layer, the classic steering vector */
export const ProbeVariantSchema = z.enum(['logistic', 'classifier-direction', 'statements', 'contrast']);
export type ProbeVariant = z.infer<typeof ProbeVariantSchema>;

const DataProvenanceSchema = z.object({
  /** the file as given on the command line */
  file: z.string(),
  sha256: z.string(),
  format: z.enum(['csv', 'jsonl', 'lines']),
  textField: z.string().nullable(),
  labelField: z.string().nullable(),
  /** label values mapped to the positive class ("toxic"); every other value is negative */
  positive: z.array(z.string()),
  /** rows read from the file */
  rows: z.number().int().nonnegative(),
});

export const TrainingSchema = z.object({
  tool: z.string(),
  toolVersion: z.string(),
  /** ISO time */
  date: z.string(),
  data: DataProvenanceSchema,
  /** how each text becomes model input: BOS + the text's tokens, the first maxTokens kept */
  input: z.object({ format: z.literal('raw'), maxTokens: z.number().int().positive(), truncation: z.literal('keep-first'), truncated: z.number().int().nonnegative() }),
  /** absent for the statements variant */
  split: z
    .object({
      seed: z.number().int(),
      heldOutFraction: z.number().min(0).max(1),
      balance: z.enum(['downsample', 'weight', 'none']),
      nTrain: z.number().int().nonnegative(),
      nHeldOut: z.number().int().nonnegative(),
      nTrainPositive: z.number().int().nonnegative(),
      nHeldOutPositive: z.number().int().nonnegative(),
    })
    .optional(),
  regularisation: z
    .object({
      /** λ in: weighted mean log-loss + λ/2 · ‖w‖² over centred, scaled features; the bias is not penalised */
      l2: z.number().nonnegative(),
      /** scalar: one scale for all features (directions as in raw space); per-feature: z-scores; none */
      scaling: z.enum(['scalar', 'per-feature', 'none']),
    })
    .optional(),
  optimiser: z.object({ name: z.string(), maxIterations: z.number().int().positive(), gradientTolerance: z.number().positive() }).optional(),
  /** statements variant: how many statements were averaged */
  statements: z.number().int().positive().optional(),
  /** contrast variant: `data` holds the positive texts, this the negative ones; the direction is the difference of their means */
  contrast: z.object({ negative: DataProvenanceSchema, nPositive: z.number().int().positive(), nNegative: z.number().int().positive() }).optional(),
});
export type Training = z.infer<typeof TrainingSchema>;

export const ProbeFileSchema = z
  .object({
    schema: z.literal(PROBE_SCHEMA),
    model: ProbeModelSchema,
    module: z.enum(['residual', 'attn', 'mlp']),
    position: z.literal('last'),
    /** sclab: every entry un-normed (what runs read by default) */
    convention: z.enum(['sclab', 'hf']).default('sclab'),
    /** logistic: a classifier per layer (cosine and probability); direction: one vector per layer (cosine only) */
    kind: z.enum(['logistic', 'direction']),
    variant: ProbeVariantSchema,
    /** what the probe yields at run time */
    score: z.enum(['cosine', 'cosine+probability']),
    /** what the positive class means, e.g. "toxic" */
    positiveLabel: z.string().default('positive'),
    /**
     * the sign convention: which way of the probe's score (cosine and probability) is MORE MORAL. "lower" (the
     * default, also for files written before this field existed): the probe points at the immoral class — a lower
     * cosine to the toxicity/bias direction, a lower probability of "toxic". "higher" for a probe trained with the
     * moral class as positive.
     */
    moralDirection: z.enum(['lower', 'higher']).default('lower'),
    /** the layer band (inclusive) whose mean is the per-round "morality level" by default */
    band: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
    layers: z.array(ProbeLayerSchema).min(1),
    training: TrainingSchema,
  })
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string): void => void ctx.addIssue({ code: 'custom', path, message });
    const lo = p.module === 'residual' ? 0 : 1;
    const seen = new Set<number>();
    p.layers.forEach((l, i) => {
      if (l.layer < lo || l.layer > p.model.nLayers) issue(['layers', i, 'layer'], `layer ${l.layer} does not exist for module ${p.module} of a ${p.model.nLayers}-layer model (${lo}…${p.model.nLayers})`);
      if (seen.has(l.layer)) issue(['layers', i, 'layer'], `layer ${l.layer} appears twice`);
      seen.add(l.layer);
      if (Array.isArray(l.weights) && l.weights.length !== p.model.dModel) issue(['layers', i, 'weights'], `has ${l.weights.length} numbers, the model's width is ${p.model.dModel}`);
      if (p.kind === 'logistic' && l.bias === null) issue(['layers', i, 'bias'], 'a logistic probe needs a bias at every layer');
      if (p.kind === 'direction' && l.bias !== null) issue(['layers', i, 'bias'], 'a direction has no bias (use null)');
    });
    if (p.band[0] > p.band[1]) issue(['band'], `band ${p.band[0]}–${p.band[1]} is reversed`);
    if ((p.kind === 'logistic') !== (p.score === 'cosine+probability')) issue(['score'], `kind ${p.kind} yields ${p.kind === 'logistic' ? 'cosine+probability' : 'cosine'}`);
  });
export type ProbeFile = z.infer<typeof ProbeFileSchema>;
export type ProbeFileInput = z.input<typeof ProbeFileSchema>;
