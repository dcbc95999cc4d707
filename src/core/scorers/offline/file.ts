// The trained offline scorer's file, `*.scorer.json` (schema sclab.scorer/1): the feature configuration, the
// weights as little-endian float32 in base64, the bias, and how it was trained (data file hash, split, held-out
// accuracy and AUC). The fingerprint hashes what decides the scores (features, weights, bias) and nothing else,
// so retraining the same data with the same settings gives the same version string.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { SclabError } from '../../model/errors';
import { FeatureConfigSchema, type FeatureConfig } from './features';

export const SCORER_FILE_SCHEMA = 'sclab.scorer/1';

export const TrainingInfoSchema = z.object({
  data: z.object({
    file: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    rows: z.number().int().nonnegative(),
    textField: z.string(),
    labelField: z.string(),
    positive: z.array(z.string()).optional(),
  }),
  positives: z.number().int().nonnegative(),
  negatives: z.number().int().nonnegative(),
  seed: z.number().int(),
  holdout: z.number().min(0).max(0.9),
  trainRows: z.number().int().nonnegative(),
  l2: z.number().nonnegative(),
  classWeight: z.enum(['balanced', 'none']),
  iterations: z.number().int().nonnegative(),
  converged: z.boolean(),
  heldOut: z.object({ n: z.number().int().nonnegative(), accuracy: z.number().nullable(), auc: z.number().nullable() }),
  trainedAt: z.string(),
  tool: z.string(),
});
export type TrainingInfo = z.infer<typeof TrainingInfoSchema>;

/** One training source of a model trained on several (the shipped default): what it is, its licence, how it was used. */
export const BlendSourceSchema = z.object({
  name: z.string(),
  /** where the data comes from (repository, commit, path) */
  origin: z.string(),
  licence: z.string(),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** rows used for training */
  rows: z.number().int().nonnegative(),
  /** labels: 0/1 classes, balanced within the source; reference-scores: a reference scorer's probabilities as soft targets */
  target: z.enum(['labels', 'reference-scores']),
  /** this source's share of the total training weight */
  share: z.number().positive(),
});
export type BlendSource = z.infer<typeof BlendSourceSchema>;

export const AgreementSchema = z.object({
  reference: z.string(),
  heldOutRows: z.number().int().nonnegative(),
  spearmanContinuations: z.number(),
  spearmanPrompts: z.number(),
  pearsonContinuations: z.number(),
});
export type Agreement = z.infer<typeof AgreementSchema>;

/** How a model trained on several sources was made (`npm run train:scorer`). */
export const BlendTrainingInfoSchema = z.object({
  sources: z.array(BlendSourceSchema).min(1),
  /** the seed of the held-out split of the reference rows (see reference-split.ts) */
  seed: z.number().int(),
  l2: z.number().nonnegative(),
  iterations: z.number().int().nonnegative(),
  converged: z.boolean(),
  trainedAt: z.string(),
  tool: z.string(),
});
export type BlendTrainingInfo = z.infer<typeof BlendTrainingInfoSchema>;

/** A named, released model (the one shipped with sclab): its name and release go into every score's version. */
export const ScorerAboutSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  release: z.string().regex(/^[0-9A-Za-z.-]+$/),
  description: z.string(),
  agreement: AgreementSchema,
  advice: z.string(),
});
export type ScorerAbout = z.infer<typeof ScorerAboutSchema>;

export const ScorerFileSchema = z.object({
  schema: z.literal(SCORER_FILE_SCHEMA),
  kind: z.literal('logistic-hashed-ngrams'),
  fingerprint: z.string(),
  features: FeatureConfigSchema,
  weights: z.object({ dtype: z.literal('float32'), encoding: z.literal('base64-le'), length: z.number().int().positive(), data: z.string() }),
  bias: z.number(),
  training: z.union([TrainingInfoSchema, BlendTrainingInfoSchema]),
  about: ScorerAboutSchema.optional(),
});
export type ScorerFile = z.infer<typeof ScorerFileSchema>;

export interface OfflineModel {
  features: FeatureConfig;
  weights: Float32Array;
  bias: number;
}

export function encodeWeights(w: Float32Array): string {
  const buf = Buffer.alloc(w.length * 4);
  for (let i = 0; i < w.length; i++) buf.writeFloatLE(w[i]!, i * 4);
  return buf.toString('base64');
}

export function decodeWeights(data: string, length: number, where: string): Float32Array {
  const buf = Buffer.from(data, 'base64');
  if (buf.length !== length * 4) throw new SclabError('config', `${where}: weights.data holds ${buf.length} bytes, expected ${length * 4} (length ${length} × 4)`);
  const w = new Float32Array(length);
  for (let i = 0; i < length; i++) w[i] = buf.readFloatLE(i * 4);
  return w;
}

export function fingerprint(m: OfflineModel): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(m.features));
  h.update(encodeWeights(m.weights));
  h.update(String(m.bias));
  return h.digest('hex');
}

/** The version every score records: a released model names itself, a user's file is known by its fingerprint. */
export function scorerVersion(f: Pick<ScorerFile, 'fingerprint' | 'about'>): string {
  const short = f.fingerprint.slice(0, 12);
  return f.about ? `${f.about.id}@${f.about.release}/logreg-ngrams/${short}` : `logreg-ngrams/${short}`;
}

export function toScorerFile(m: OfflineModel, training: TrainingInfo | BlendTrainingInfo, about?: ScorerAbout): ScorerFile {
  return {
    schema: SCORER_FILE_SCHEMA,
    kind: 'logistic-hashed-ngrams',
    fingerprint: fingerprint(m),
    features: m.features,
    weights: { dtype: 'float32', encoding: 'base64-le', length: m.weights.length, data: encodeWeights(m.weights) },
    bias: m.bias,
    training,
    ...(about ? { about } : {}),
  };
}

export async function writeScorerFile(file: string, content: ScorerFile): Promise<void> {
  try {
    await writeFile(file, JSON.stringify(content, null, 1) + '\n');
  } catch (e) {
    throw new SclabError('io', `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Parses and checks a scorer file's content; errors name the file and the field. */
export function parseScorerFile(text: string, file: string): { file: ScorerFile; model: OfflineModel } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SclabError('config', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return checkScorerFile(json, file);
}

/** Checks a scorer file's parsed JSON: schema, field types, weight length and fingerprint. */
export function checkScorerFile(json: unknown, file: string): { file: ScorerFile; model: OfflineModel } {
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== SCORER_FILE_SCHEMA) {
    throw new SclabError('config', `${file}: not a scorer file (schema is ${JSON.stringify(schema)}, expected "${SCORER_FILE_SCHEMA}")`);
  }
  const parsed = ScorerFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SclabError('config', `${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const f = parsed.data;
  if (f.weights.length !== f.features.buckets) {
    throw new SclabError('config', `${file}: weights.length ${f.weights.length} differs from features.buckets ${f.features.buckets}`);
  }
  const model = { features: f.features, weights: decodeWeights(f.weights.data, f.weights.length, file), bias: f.bias };
  if (fingerprint(model) !== f.fingerprint) throw new SclabError('config', `${file}: the weights do not match the file's fingerprint (the file was changed or damaged)`);
  return { file: f, model };
}

export async function readScorerFile(file: string): Promise<{ file: ScorerFile; model: OfflineModel }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SclabError('config', `cannot read scorer file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseScorerFile(text, file);
}
