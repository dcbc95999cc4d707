// Residual-stream interventions (activation steering and directional ablation) applied inside the forward pass.
//
// Where: the output of decoder layer l (the residual stream after layer l, index l of the 'sclab' capture
// convention, what a forward hook on Hugging Face's model.layers[l-1] returns), for every layer l of the spec, so
// later layers, the logits, the KV cache and any capture of layer ≥ l all see the changed stream.
// What, per steered row x:   add:    x ← x + alpha · u          ablate: x ← x − (x · u) u
// with u the layer's direction scaled to unit length. Which rows: absolute positions ≥ fromPosition (0 = all).
//
// alpha = 0 without ablation is no intervention at all (normalise returns null), so such a pass is bit-identical to
// an unsteered one and shares its prefix-cache entries. Every other intervention has a canonical key: passes under
// different keys never share keys and values.
import { SclabError } from '../model/errors';

/** The wire form (engine protocol, sidecar protocol): plain JSON. */
export interface InterventionSpec {
  /** add alpha × unit direction, or project the direction out */
  mode: 'add' | 'ablate';
  /** steering strength in the residual stream's own units (ignored by ablate) */
  alpha: number;
  /** residual index l (1…nLayers: after layer l) and its direction (dModel numbers, any length ≠ 0) */
  layers: Array<{ layer: number; direction: number[] }>;
  /** first absolute token position steered; 0 or absent = every position */
  fromPosition?: number;
}

/** Compiled for the forward pass: unit directions indexed by layer. */
export interface Intervention {
  mode: 'add' | 'ablate';
  alpha: number;
  fromPosition: number;
  /** byLayer[l] = unit direction applied after layer l, or undefined */
  byLayer: Array<Float32Array | undefined>;
  /** canonical identity: the prefix-cache namespace of passes under this intervention */
  key: string;
}

/** Checks a spec against the model, and compiles it; null when it changes nothing (add with alpha 0, no layers). */
export function compileIntervention(spec: InterventionSpec | null | undefined, shape: { nLayers: number; dim: number }, where = 'intervention'): Intervention | null {
  if (!spec) return null;
  if (spec.mode !== 'add' && spec.mode !== 'ablate') throw new SclabError('bad_request', `${where}.mode: must be "add" or "ablate", got ${JSON.stringify(spec.mode)}`);
  if (!Number.isFinite(spec.alpha)) throw new SclabError('bad_request', `${where}.alpha: must be a finite number, got ${spec.alpha}`);
  const from = spec.fromPosition ?? 0;
  if (!Number.isInteger(from) || from < 0) throw new SclabError('bad_request', `${where}.fromPosition: must be an integer ≥ 0, got ${from}`);
  if (!Array.isArray(spec.layers)) throw new SclabError('bad_request', `${where}.layers: must be a list`);
  if (spec.mode === 'add' && spec.alpha === 0) return null;
  if (spec.layers.length === 0) return null;
  const byLayer: Array<Float32Array | undefined> = new Array<Float32Array | undefined>(shape.nLayers + 1).fill(undefined);
  spec.layers.forEach((entry, i) => {
    const at = `${where}.layers[${i}]`;
    if (!Number.isInteger(entry.layer) || entry.layer < 1 || entry.layer > shape.nLayers) {
      throw new SclabError('bad_request', `${at}.layer: ${entry.layer} is not a decoder layer output of this ${shape.nLayers}-layer model (1…${shape.nLayers})`);
    }
    if (byLayer[entry.layer]) throw new SclabError('bad_request', `${at}.layer: layer ${entry.layer} appears twice`);
    const d = entry.direction;
    if (!Array.isArray(d) || d.length !== shape.dim) throw new SclabError('bad_request', `${at}.direction: needs ${shape.dim} numbers (the model's width), got ${Array.isArray(d) ? d.length : typeof d}`);
    let n2 = 0;
    for (const v of d) {
      if (!Number.isFinite(v)) throw new SclabError('bad_request', `${at}.direction: contains a non-finite number`);
      n2 += v * v;
    }
    if (!(n2 > 0)) throw new SclabError('bad_request', `${at}.direction: is the zero vector`);
    const inv = 1 / Math.sqrt(n2);
    byLayer[entry.layer] = Float32Array.from(d, (v) => v * inv);
  });
  return { mode: spec.mode, alpha: spec.alpha, fromPosition: from, byLayer, key: interventionKey(spec.mode, spec.alpha, from, byLayer) };
}

/** mode, alpha, first position and a hash of every unit direction's float bits: equal keys steer identically */
function interventionKey(mode: string, alpha: number, from: number, byLayer: Array<Float32Array | undefined>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const layers: number[] = [];
  byLayer.forEach((u, l) => {
    if (!u) return;
    layers.push(l);
    const bits = new Uint32Array(u.buffer, u.byteOffset, u.length);
    for (let i = 0; i < bits.length; i++) {
      h1 = Math.imul(h1 ^ bits[i]!, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ ((bits[i]! >>> 16) | (l << 16)), 0x5bd1e995) >>> 0;
    }
  });
  const a = mode === 'ablate' ? '' : `:${alpha}`;
  return `${mode}${a}:from${from}:L${layers.join(',')}:${h1.toString(16)}${h2.toString(16)}`;
}

/** Applies the intervention of layer l to rows [0, rows) of x, whose first row is absolute position start. */
export function applyIntervention(iv: Intervention, l: number, x: Float32Array, rows: number, dim: number, start: number): void {
  const u = iv.byLayer[l];
  if (!u) return;
  const first = Math.max(0, iv.fromPosition - start);
  if (iv.mode === 'add') {
    const a = iv.alpha;
    for (let r = first; r < rows; r++) {
      const o = r * dim;
      for (let i = 0; i < dim; i++) x[o + i] = x[o + i]! + a * u[i]!;
    }
    return;
  }
  for (let r = first; r < rows; r++) {
    const o = r * dim;
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += x[o + i]! * u[i]!;
    for (let i = 0; i < dim; i++) x[o + i] = x[o + i]! - dot * u[i]!;
  }
}
