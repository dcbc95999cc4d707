// A probe file parsed, checked and decoded into vectors ready for scoring. Browser-safe (no file access here).
import { SclabError } from '../model/errors';
import { type ProbeFile, ProbeFileSchema, type ProbeModel } from './schema';
import { decodeVector, norm } from './vectors';

export interface ProbeLayerVector {
  layer: number;
  weights: Float32Array;
  /** ‖weights‖, cached for cosines */
  norm: number;
  bias: number | null;
}

export interface LoadedProbe {
  file: ProbeFile;
  /** where it came from, for messages */
  source: string;
  /** in the file's order */
  layers: ProbeLayerVector[];
}

function describeModel(m: ProbeModel): string {
  return `"${m.name}" (${m.nLayers} layers, width ${m.dModel}, weights sha256 ${m.weightsSha256.slice(0, 12)}…)`;
}

/** Refuses a probe trained on another model: the weights hash and the shapes must match; the name may differ. */
export function checkProbeIdentity(probe: LoadedProbe, expected: ProbeModel): void {
  const m = probe.file.model;
  if (m.weightsSha256 !== expected.weightsSha256 || m.nLayers !== expected.nLayers || m.dModel !== expected.dModel) {
    throw new SclabError(
      'config',
      (w) =>
        `${probe.source}: this probe was trained on model ${describeModel(m)}, but the backend runs ${describeModel(expected)}; ` +
        `a probe only applies to the model whose hidden states it was trained on — retrain it with ${w.trainProbe}`,
    );
  }
}

/** Validates and decodes probe JSON (already parsed); `source` names the file in errors. */
export function parseProbe(json: unknown, source: string, expected?: ProbeModel): LoadedProbe {
  const parsed = ProbeFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new SclabError('config', `${source}: not a ${'sclab.probe/1'} probe file: ${where}: ${issue.message}`);
  }
  const file = parsed.data;
  const layers = file.layers.map((l, i): ProbeLayerVector => {
    let weights: Float32Array;
    try {
      weights = decodeVector(l.weights);
    } catch (e) {
      throw new SclabError('config', `${source}: layers.${i}.weights: ${(e as Error).message}`);
    }
    if (weights.length !== file.model.dModel) throw new SclabError('config', `${source}: layers.${i}.weights: has ${weights.length} numbers, the model's width is ${file.model.dModel}`);
    if (!weights.every(Number.isFinite)) throw new SclabError('config', `${source}: layers.${i}.weights: contains a non-finite number`);
    return { layer: l.layer, weights, norm: norm(weights), bias: l.bias };
  });
  const probe: LoadedProbe = { file, source, layers };
  if (expected) checkProbeIdentity(probe, expected);
  return probe;
}
