// Training a probe file end to end: labelled texts (or statements) → last-token hidden states from the embedded
// engine → per-layer probes or a direction → a sclab.probe/1 file with its provenance.
import type { HiddenModule } from '../backends/backend';
import type { EngineClient } from '../engine/client';
import { SclabError } from '../model/errors';
import { TOOL_VERSION } from '../version';
import { collectLastTokenStates, modelShape } from './activations';
import { defaultBand, type FitReport, fitClassifierDirection, fitContrastDirection, fitLogisticLayers, fitStatementsDirection } from './fit';
import { readLabelledTexts, readStatements } from './labelled-data';
import { LOGISTIC_DEFAULTS, type Scaling } from './logistic';
import { PROBE_SCHEMA, type ProbeFile, type ProbeVariant, type Training } from './schema';
import { type Balance, splitStratified } from './split';

export const DEFAULT_MAX_TOKENS = 128;

export interface TrainProbeOptions {
  /** labelled texts or statements; for the contrast variant the positive texts (one per line, or --text-field) */
  data: string;
  /** contrast variant: the negative texts */
  negative?: string;
  variant: ProbeVariant;
  module: HiddenModule;
  /** default: every layer of the module */
  layers?: number[];
  textField?: string;
  labelField?: string;
  /** label values meaning the positive class; default ["1"] */
  positive?: string[];
  positiveLabel?: string;
  /** which way of the score is more moral; default lower (the positive class is the immoral one, e.g. toxic) */
  moralDirection?: 'lower' | 'higher';
  seed?: number;
  heldOutFraction?: number;
  balance?: Balance;
  limit?: number;
  /** default 1/nTrain (scikit-learn's C = 1) */
  l2?: number;
  /** feature scaling before the fit; default 'scalar' (keeps raw-space directions) */
  scaling?: Scaling;
  /** tokens kept per text (the first ones, BOS included); default 128, at most the model's context */
  maxTokens?: number;
  band?: [number, number];
  /** ISO time written into the file; default now */
  date?: string;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface TrainedProbe {
  probe: ProbeFile;
  reports: FitReport[];
  /** texts run through the model, and their tokens */
  texts: number;
  tokens: number;
}

/** `engines`: one engine client, or several on the same model to share the forward passes (see --jobs). */
export async function trainProbe(engines: EngineClient | readonly EngineClient[], opts: TrainProbeOptions): Promise<TrainedProbe> {
  const client = Array.isArray(engines) ? (engines as readonly EngineClient[])[0]! : (engines as EngineClient);
  const shape = await modelShape(client);
  const lo = opts.module === 'residual' ? 0 : 1;
  const layers = opts.layers ?? Array.from({ length: shape.nLayers + 1 - lo }, (_, i) => i + lo);
  if (layers.length === 0) throw new SclabError('config', 'no layers chosen');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < lo || l > shape.nLayers) throw new SclabError('config', `--layers: layer ${l} does not exist for module ${opts.module} of this ${shape.nLayers}-layer model (${lo}…${shape.nLayers})`);
  }
  const maxTokens = Math.min(opts.maxTokens ?? DEFAULT_MAX_TOKENS, shape.maxSeqLen);
  const band = opts.band ?? defaultBand(shape.nLayers, layers);
  if (band[0] > band[1] || band[0] < Math.min(...layers) || band[1] > Math.max(...layers)) {
    throw new SclabError('config', `--band ${band[0]}-${band[1]}: must be an ascending range within the probe's layers ${Math.min(...layers)}…${Math.max(...layers)}`);
  }
  const progress = (stage: string) => (done: number, total: number) => opts.onProgress?.(stage, done, total);
  const base = { schema: PROBE_SCHEMA, model: shape.identity, module: opts.module, position: 'last', convention: 'sclab', variant: opts.variant, positiveLabel: opts.positiveLabel ?? 'positive', moralDirection: opts.moralDirection ?? 'lower', band } as const;
  const toolStamp = { tool: 'sclab', toolVersion: TOOL_VERSION, date: opts.date ?? new Date().toISOString() };

  if (opts.variant === 'statements') {
    const st = await readStatements(opts.data, opts.textField);
    const states = await collectLastTokenStates(engines, st.texts, { module: opts.module, layers, maxTokens, signal: opts.signal, onProgress: progress('statements') });
    const training: Training = {
      ...toolStamp,
      data: { file: opts.data, sha256: st.sha256, format: st.format, textField: opts.textField ?? null, labelField: null, positive: [], rows: st.texts.length },
      input: { format: 'raw', maxTokens, truncation: 'keep-first', truncated: states.truncated },
      statements: st.texts.length,
    };
    const probe: ProbeFile = { ...base, kind: 'direction', score: 'cosine', layers: fitStatementsDirection(layers, states.byLayer), training };
    return { probe, reports: [], texts: st.texts.length, tokens: states.tokens };
  }

  if (opts.variant === 'contrast') {
    if (!opts.negative) throw new SclabError('config', (w) => `the contrast variant needs ${w.negativeTexts} beside ${w.positiveTexts}`);
    const pos = await readStatements(opts.data, opts.textField);
    const neg = await readStatements(opts.negative, opts.textField);
    const collect = (texts: string[], stage: string) => collectLastTokenStates(engines, texts, { module: opts.module, layers, maxTokens, signal: opts.signal, onProgress: progress(stage) });
    const ps = await collect(pos.texts, 'positive texts');
    const ns = await collect(neg.texts, 'negative texts');
    const provenance = (f: typeof pos) => ({ file: f.file, sha256: f.sha256, format: f.format, textField: opts.textField ?? null, labelField: null, positive: [], rows: f.texts.length });
    const training: Training = {
      ...toolStamp,
      data: provenance(pos),
      input: { format: 'raw', maxTokens, truncation: 'keep-first', truncated: ps.truncated + ns.truncated },
      contrast: { negative: provenance(neg), nPositive: pos.texts.length, nNegative: neg.texts.length },
    };
    const probe: ProbeFile = { ...base, kind: 'direction', score: 'cosine', layers: fitContrastDirection(layers, ps.byLayer, ns.byLayer), training };
    return { probe, reports: [], texts: pos.texts.length + neg.texts.length, tokens: ps.tokens + ns.tokens };
  }

  if (!opts.textField || !opts.labelField) throw new SclabError('config', (w) => `the ${opts.variant} variant needs ${w.textField} and ${w.labelField}`);
  const positive = opts.positive ?? ['1'];
  const data = await readLabelledTexts(opts.data, { textField: opts.textField, labelField: opts.labelField, positive });
  const allLabels = data.rows.map((r) => r.label);
  const heldOutFraction = opts.heldOutFraction ?? 0.2;
  const balance = opts.balance ?? 'downsample';
  const seed = opts.seed ?? 0;
  const chosen = splitStratified(allLabels, { seed, heldOutFraction, balance, ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  // run the model only on the chosen rows; re-index the split onto them
  const used = [...chosen.train, ...chosen.heldOut];
  const texts = used.map((i) => data.rows[i]!.text);
  const labels = used.map((i) => allLabels[i]!);
  const split = { train: chosen.train.map((_, k) => k), heldOut: chosen.heldOut.map((_, k) => chosen.train.length + k), trainWeights: chosen.trainWeights };
  if (split.train.length < 2 || !labels.slice(0, split.train.length).includes(1) || !labels.slice(0, split.train.length).includes(0)) {
    throw new SclabError('config', (w) => `${opts.data}: the training split needs rows of both classes (it has ${split.train.length} rows); raise ${w.itemLimit} or lower ${w.heldOut}`);
  }
  const l2 = opts.l2 ?? 1 / split.train.length;
  const scaling = opts.scaling ?? 'scalar';
  const fitOpts = { l2, scaling };
  const collectLayers = opts.variant === 'classifier-direction' ? [shape.nLayers] : layers;
  const states = await collectLastTokenStates(engines, texts, { module: opts.module, layers: collectLayers, maxTokens, signal: opts.signal, onProgress: progress('texts') });
  const fitted =
    opts.variant === 'logistic'
      ? fitLogisticLayers(layers, states.byLayer, labels, split, fitOpts)
      : fitClassifierDirection(shape.nLayers, states.byLayer[0]!, labels, split, layers, fitOpts);
  const count = (idx: number[]) => idx.filter((i) => labels[i] === 1).length;
  const training: Training = {
    ...toolStamp,
    data: { file: opts.data, sha256: data.sha256, format: data.format, textField: opts.textField, labelField: opts.labelField, positive, rows: data.rows.length },
    input: { format: 'raw', maxTokens, truncation: 'keep-first', truncated: states.truncated },
    split: {
      seed,
      heldOutFraction,
      balance,
      nTrain: split.train.length,
      nHeldOut: split.heldOut.length,
      nTrainPositive: count(split.train),
      nHeldOutPositive: count(split.heldOut),
    },
    regularisation: { l2, scaling },
    optimiser: { name: 'L-BFGS (memory 10, Armijo backtracking)', maxIterations: LOGISTIC_DEFAULTS.maxIterations, gradientTolerance: LOGISTIC_DEFAULTS.gradientTolerance },
  };
  const probe: ProbeFile =
    opts.variant === 'logistic'
      ? { ...base, kind: 'logistic', score: 'cosine+probability', layers: fitted.layers, training }
      : { ...base, kind: 'direction', score: 'cosine', layers: fitted.layers, training };
  return { probe, reports: fitted.reports, texts: texts.length, tokens: states.tokens };
}
