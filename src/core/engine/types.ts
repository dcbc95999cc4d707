// The engine's shared vocabulary: what loaders produce and the forward pass consumes.
import type { ChatMessage } from '../model/chat';
import type { WeightMatrix } from './kernels-wasm';

/**
 * RoPE pairing: 'interleaved' rotates (x0,x1),(x2,x3)… (llama2.c, GGUF); 'half' rotates (x_i, x_{i+d/2})
 * (Hugging Face checkpoints).
 */
export type RopeStyle = 'interleaved' | 'half';

export interface ModelConfig {
  /** llama2c, llama, mistral, qwen2, smollm … (informational) */
  family: string;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxSeqLen: number;
  ropeTheta: number;
  ropeStyle: RopeStyle;
  rmsNormEps: number;
  tiedEmbeddings: boolean;
  /** Qwen2: biases on q, k, v projections */
  qkvBias: boolean;
}

/** Row-major tensors; matrices are [outDim, inDim], fp32 or kept 16-bit (HalfMatrix); vectors are fp32. */
export interface LayerWeights {
  attnNorm: Float32Array; // [dim]
  wq: WeightMatrix; // [nHeads*headDim, dim]
  wk: WeightMatrix; // [nKvHeads*headDim, dim]
  wv: WeightMatrix; // [nKvHeads*headDim, dim]
  wo: WeightMatrix; // [dim, nHeads*headDim]
  bq?: Float32Array;
  bk?: Float32Array;
  bv?: Float32Array;
  ffnNorm: Float32Array; // [dim]
  w1: WeightMatrix; // gate [hiddenDim, dim]
  w2: WeightMatrix; // down [dim, hiddenDim]
  w3: WeightMatrix; // up [hiddenDim, dim]
}

export interface ModelWeights {
  config: ModelConfig;
  tokenEmbedding: WeightMatrix; // [vocab, dim]
  layers: LayerWeights[];
  finalNorm: Float32Array; // [dim]
  /** [vocab, dim]; the same array as tokenEmbedding when tied */
  output: WeightMatrix;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosIds: number[];
  /** ids of special tokens (BOS, EOS, a chat template's markers): left out of 'mean' pooling */
  readonly specialIds: ReadonlySet<number>;
  /** ids for text, without BOS/EOS */
  encode(text: string): number[];
  decode(ids: number[]): string;
}

/** Turns a conversation into the exact text the model sees, ending with the assistant prefill. */
export interface ChatFormatter {
  readonly name: string;
  render(messages: ChatMessage[], prefill: string): string;
}

/** Identifies the model a probe or a run belongs to. */
export interface ModelIdentity {
  name: string;
  nLayers: number;
  dModel: number;
  /** sha256 over the weight files */
  weightsSha256: string;
}

export interface LoadedModel {
  identity: ModelIdentity;
  weights: ModelWeights;
  tokenizer: Tokenizer;
  chat: ChatFormatter;
  /** whether the text a tokenizer encodes needs BOS put in front */
  addBos: boolean;
}
