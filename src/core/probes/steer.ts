// From a probe file to a residual-stream intervention: the probe's direction at each layer of a band, added with a
// strength alpha (steering) or projected out (ablation). Browser-safe.
import type { InterventionSpec } from '../engine/intervention';
import { SclabError } from '../model/errors';
import type { LoadedProbe } from './probe';

export interface SteerSettings {
  /** inclusive band of residual layers l (the output of decoder layer l, 1…nLayers) */
  layers: [number, number];
  alpha: number;
  ablate?: boolean;
  /** first absolute token position steered (0 = every position) */
  fromPosition?: number;
}

/** "12-20" or "12" → [12, 20] / [12, 12]; `where` names the field in errors */
export function parseLayerBand(raw: string, where: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  if (!m) throw new SclabError('config', `${where}: ${JSON.stringify(raw)} is not a layer band; write "a-b" or "a"`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new SclabError('config', `${where}: band ${lo}-${hi} is reversed`);
  return [lo, hi];
}

/** The intervention spec of a probe's directions over a band; refuses layers the probe lacks or that cannot be steered. */
export function interventionFromProbe(probe: LoadedProbe, s: SteerSettings): InterventionSpec {
  const f = probe.file;
  if (f.module !== 'residual') throw new SclabError('config', (w) => `${probe.source}: a ${f.module} probe cannot steer; interventions act on the residual stream (train the probe with ${w.probeModule} residual)`);
  if (!Number.isFinite(s.alpha)) throw new SclabError('config', `alpha ${s.alpha} is not a finite number`);
  const [lo, hi] = s.layers;
  if (lo < 1 || hi > f.model.nLayers) throw new SclabError('config', `${probe.source}: layers ${lo}-${hi}: steerable layers of this ${f.model.nLayers}-layer model are 1…${f.model.nLayers} (the output of each decoder layer)`);
  const layers: InterventionSpec['layers'] = [];
  for (let l = lo; l <= hi; l++) {
    const v = probe.layers.find((x) => x.layer === l);
    if (!v) throw new SclabError('config', `${probe.source}: has no direction at layer ${l} (it has ${probe.layers.map((x) => x.layer).join(', ')})`);
    if (!(v.norm > 0)) throw new SclabError('config', `${probe.source}: the direction at layer ${l} is the zero vector`);
    layers.push({ layer: l, direction: Array.from(v.weights) });
  }
  return { mode: s.ablate ? 'ablate' : 'add', alpha: s.ablate ? 0 : s.alpha, layers, ...(s.fromPosition ? { fromPosition: s.fromPosition } : {}) };
}
