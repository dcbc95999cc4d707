// A loaded model's weights handed to other threads without a copy: every tensor lives in the model's kernel arena (a
// shared WebAssembly memory), so a descriptor of byte offsets plus the memory itself (which a worker message carries
// by reference) is enough for another worker to rebuild the same ModelWeights over the same bytes.
import { arenaMemoryOf, arenaOffset, attachKernelArena, HalfMatrix, viewF32, viewU16, type KernelArena, type WeightMatrix } from './kernels-wasm';
import type { HalfDtype } from './kernels-wasm-code';
import type { LayerWeights, ModelConfig, ModelIdentity, ModelWeights } from './types';

type TensorRef = { f32: number; n: number } | { half: HalfDtype; at: number; n: number };

/** what a worker message carries: the memory (shared, not copied) and where each tensor lies in it */
export interface SharedWeights {
  memory: WebAssembly.Memory;
  config: ModelConfig;
  identity: ModelIdentity;
  tokenEmbedding: TensorRef;
  /** absent when tied to tokenEmbedding (one array, as the loaders make it) */
  output?: TensorRef;
  finalNorm: TensorRef;
  layers: Array<Record<string, TensorRef>>;
  /** bytes of all tensors, each counted once */
  weightBytes: number;
}

const LAYER_KEYS = ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'bq', 'bk', 'bv', 'ffnNorm', 'w1', 'w2', 'w3'] as const;

/**
 * The descriptor of weights that all live in one kernel arena; null when some tensor is a plain array (no SIMD
 * kernels here, or the 4 GiB memory was full): such a model cannot be shared and runs in one worker.
 */
export function shareWeights(weights: ModelWeights, identity: ModelIdentity): SharedWeights | null {
  let memory: WebAssembly.Memory | null = null;
  let weightBytes = 0;
  const ref = (t: WeightMatrix): TensorRef | null => {
    const arr = t instanceof HalfMatrix ? t.bits : t;
    const at = arenaOffset(arr);
    const mem = arenaMemoryOf(arr);
    if (at === null || mem === null || (memory !== null && mem !== memory)) return null;
    memory = mem;
    weightBytes += arr.byteLength;
    return t instanceof HalfMatrix ? { half: t.dtype, at, n: t.length } : { f32: at, n: t.length };
  };
  const tokenEmbedding = ref(weights.tokenEmbedding);
  const output = weights.output === weights.tokenEmbedding ? undefined : ref(weights.output);
  const finalNorm = ref(weights.finalNorm);
  const layers: Array<Record<string, TensorRef>> = [];
  for (const lw of weights.layers) {
    const layer: Record<string, TensorRef> = {};
    for (const k of LAYER_KEYS) {
      const t = lw[k];
      if (t === undefined) continue;
      const r = ref(t);
      if (r === null) return null;
      layer[k] = r;
    }
    layers.push(layer);
  }
  if (!tokenEmbedding || output === null || !finalNorm || memory === null) return null;
  return { memory, config: weights.config, identity, tokenEmbedding, ...(output ? { output } : {}), finalNorm, layers, weightBytes };
}

/** bytes of a model's tensors, each array counted once (tied embeddings are one) */
export function weightBytes(weights: ModelWeights): number {
  const seen = new Set<WeightMatrix>();
  const add = (t: WeightMatrix | undefined): void => void (t !== undefined && seen.add(t));
  add(weights.tokenEmbedding);
  add(weights.output);
  add(weights.finalNorm);
  for (const lw of weights.layers) for (const k of LAYER_KEYS) add(lw[k]);
  let bytes = 0;
  for (const t of seen) bytes += t instanceof HalfMatrix ? t.bits.byteLength : t.byteLength;
  return bytes;
}

/** The same weights in this thread, viewing the shared memory (nothing copied), and this thread's arena on it. */
export function attachWeights(shared: SharedWeights): { weights: ModelWeights; arena: KernelArena } {
  const arena = attachKernelArena(shared.memory);
  const f32 = (r: TensorRef): Float32Array => {
    if (!('f32' in r)) throw new Error('a norm or bias must be fp32');
    return viewF32(arena, r.f32, r.n);
  };
  const matrix = (r: TensorRef): WeightMatrix => ('f32' in r ? viewF32(arena, r.f32, r.n) : new HalfMatrix(r.half, viewU16(arena, r.at, r.n)));
  const tokenEmbedding = matrix(shared.tokenEmbedding);
  const layers = shared.layers.map((l) => {
    const layer: LayerWeights = {
      attnNorm: f32(l.attnNorm!),
      wq: matrix(l.wq!),
      wk: matrix(l.wk!),
      wv: matrix(l.wv!),
      wo: matrix(l.wo!),
      ffnNorm: f32(l.ffnNorm!),
      w1: matrix(l.w1!),
      w2: matrix(l.w2!),
      w3: matrix(l.w3!),
    };
    if (l.bq) layer.bq = f32(l.bq);
    if (l.bk) layer.bk = f32(l.bk);
    if (l.bv) layer.bv = f32(l.bv);
    return layer;
  });
  const output = shared.output ? matrix(shared.output) : tokenEmbedding;
  return { weights: { config: shared.config, tokenEmbedding, layers, finalNorm: f32(shared.finalNorm), output }, arena };
}
