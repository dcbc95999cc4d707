// Maps a Hugging Face config.json onto the engine's ModelConfig, refusing what the forward pass cannot run.
import { SclabError } from '../../model/errors';
import type { ModelConfig } from '../types';

/** What config.json says beyond the ModelConfig: token ids and the name the model was saved under. */
export interface HfConfigInfo {
  config: ModelConfig;
  architecture: string;
  bosTokenId: number | null;
  eosTokenIds: number[];
  nameOrPath: string | null;
  /** false when config.json leaves tie_word_embeddings out (the loader then ties only if lm_head.weight is absent) */
  tieDeclared: boolean;
}

const ARCHITECTURES: Record<string, { family: string; qkvBias: boolean }> = {
  LlamaForCausalLM: { family: 'llama', qkvBias: false },
  MistralForCausalLM: { family: 'mistral', qkvBias: false },
  Qwen2ForCausalLM: { family: 'qwen2', qkvBias: true },
};

type Json = Record<string, unknown>;

export function parseHfConfig(raw: unknown, file: string): HfConfigInfo {
  const bad = (field: string, what: string): never => {
    throw new SclabError('model', `${file}: field "${field}" ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SclabError('model', `${file}: not a JSON object`);
  const c = raw as Json;

  const archs = c.architectures;
  const architecture = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
  if (!architecture) bad('architectures', `is missing; supported: ${Object.keys(ARCHITECTURES).join(', ')}`);
  const arch = ARCHITECTURES[architecture!];
  if (!arch) {
    throw new SclabError('model', `${file}: architecture ${architecture} is not supported by the embedded engine; supported: ${Object.keys(ARCHITECTURES).join(', ')}`);
  }

  const int = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (v === undefined) return bad(field, 'is missing');
    if (!Number.isSafeInteger(v) || (v as number) <= 0) return bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (field: string, fallback: number, from: Json = c): number => {
    const v = from[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return bad(field, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };

  const act = c.hidden_act ?? c.hidden_activation ?? 'silu';
  if (act !== 'silu') bad('hidden_act', `is ${JSON.stringify(act)}; the engine implements SwiGLU with silu only`);
  if (c.attention_bias === true && arch.family !== 'qwen2') bad('attention_bias', 'is true (biases on q/k/v/o projections); the engine supports q/k/v biases for Qwen2 only');
  if (c.mlp_bias === true) bad('mlp_bias', 'is true; the engine has no MLP biases');

  const dim = int('hidden_size');
  const nHeads = int('num_attention_heads');
  const nKvHeads = int('num_key_value_heads', nHeads);
  if (nHeads % nKvHeads !== 0) bad('num_key_value_heads', `(${nKvHeads}) must divide num_attention_heads (${nHeads})`);
  if (c.head_dim == null && dim % nHeads !== 0) bad('hidden_size', `(${dim}) is not a multiple of num_attention_heads (${nHeads}) and head_dim is not given`);
  const headDim = int('head_dim', dim / nHeads);
  if (headDim % 2 !== 0) bad('head_dim', `(${headDim}) must be even for rotary embeddings`);

  // transformers 5 moved rope settings into rope_parameters; older configs use rope_theta + rope_scaling.
  const ropeParams = (c.rope_parameters ?? null) as Json | null;
  const ropeTheta = ropeParams && ropeParams.rope_theta !== undefined ? num('rope_theta', 10000, ropeParams) : num('rope_theta', 10000);
  const scaling = (c.rope_scaling ?? null) as Json | null;
  for (const [field, s] of [
    ['rope_scaling', scaling],
    ['rope_parameters', ropeParams],
  ] as const) {
    if (!s) continue;
    const type = s.rope_type ?? s.type ?? 'default';
    if (type !== 'default') {
      bad(field, `asks for ${JSON.stringify(type)} RoPE scaling, which the embedded engine does not implement (plain RoPE only). Use a model without rope scaling (Llama 2, Mistral, Qwen2/2.5, SmolLM2).`);
    }
  }

  let maxSeqLen = int('max_position_embeddings', 2048);
  // Sliding-window attention equals full attention while the sequence fits in the window: cap the context there
  // so results stay exact rather than silently diverging on long prompts.
  const slidingActive = arch.family === 'mistral' ? c.sliding_window != null : c.use_sliding_window === true;
  if (slidingActive && c.sliding_window != null) maxSeqLen = Math.min(maxSeqLen, int('sliding_window'));

  const tied = c.tie_word_embeddings as boolean | undefined;
  if (tied != null && typeof tied !== 'boolean') bad('tie_word_embeddings', 'must be true or false');

  const config: ModelConfig = {
    family: arch.family,
    dim,
    hiddenDim: int('intermediate_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads,
    headDim,
    vocabSize: int('vocab_size'),
    maxSeqLen,
    ropeTheta,
    ropeStyle: 'half',
    rmsNormEps: num('rms_norm_eps', 1e-6),
    // Llama/Mistral/Qwen2 configs default to untied; see tieDeclared for files that leave it out.
    tiedEmbeddings: tied ?? false,
    qkvBias: arch.qkvBias,
  };

  const ids = (field: string): number[] => {
    const v = c[field];
    if (v == null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => Number.isSafeInteger(x) && x >= 0)) bad(field, `must be a token id or a list of ids, got ${JSON.stringify(v)}`);
    return list as number[];
  };
  return {
    config,
    architecture: architecture!,
    bosTokenId: ids('bos_token_id')[0] ?? null,
    eosTokenIds: ids('eos_token_id'),
    tieDeclared: tied != null,
    nameOrPath: typeof c._name_or_path === 'string' && c._name_or_path.trim() !== '' ? c._name_or_path : null,
  };
}

/** eos ids from generation_config.json (instruct models often list their end-of-turn token only there). */
export function generationEosIds(raw: unknown): number[] {
  const v = (raw as Json | null)?.eos_token_id;
  const list = Array.isArray(v) ? v : v == null ? [] : [v];
  return list.filter((x): x is number => Number.isSafeInteger(x) && x >= 0);
}
