// Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json, tokenizer_config.json) into the
// engine's LoadedModel. Supported: LlamaForCausalLM (incl. SmolLM2), MistralForCausalLM, Qwen2ForCausalLM.
import { basename, join, resolve } from 'node:path';
import { SclabError } from '../../model/errors';
import type { ChatFormatter, LayerWeights, LoadedModel, ModelConfig, ModelWeights, Tokenizer } from '../types';
import { jinjaChatFormatter } from './chat-template';
import { generationEosIds, parseHfConfig } from './config';
import { combineWeightDigests, sha256File } from './hash';
import { plainChat } from '../plain-chat';
import { newKernelArena, type WeightMatrix } from '../kernels';
import { SafetensorsSet } from './safetensors';
import { readJson, readJsonIfPresent, readTokenizerConfig, type TokenizerConfig } from './tokenizer-config';
import { loadHfTokenizer } from './tokenizer';
import { attachWeights, type SharedWeights } from '../shared-weights';

export interface LoadHfOptions {
  /** the name the model is known by (a catalogue name); default: config.json's _name_or_path, else the folder name */
  name?: string;
  /** sha256 of weight files already verified by the caller (file name → digest), so they are not hashed twice */
  knownSha256?: Record<string, string>;
  /**
   * widen F16/BF16 weight matrices to fp32 at load (twice the memory) instead of keeping them 16-bit for the
   * kernels to widen; the results are the same either way. Default false.
   */
  widenAtLoad?: boolean;
  /** weights another worker loaded, in a shared kernel memory: only the tokenizer and chat format are read here */
  shared?: SharedWeights;
}

export async function loadHfModel(dir: string, opts: LoadHfOptions = {}): Promise<LoadedModel> {
  const folder = resolve(dir);
  const configFile = join(folder, 'config.json');
  const info = parseHfConfig(await readJson(configFile), configFile);
  const genEos = generationEosIds(await readJsonIfPresent(join(folder, 'generation_config.json')));
  const tc = await readTokenizerConfig(folder);
  const { tokenizer, postProcessorAddsBos } = await loadHfTokenizer(folder, tc, {
    bosTokenId: info.bosTokenId,
    eosTokenIds: [...info.eosTokenIds, ...genEos],
  });

  const name = opts.name ?? info.nameOrPath ?? basename(folder);
  const addBos = hfAddsBos(tc, postProcessorAddsBos, tokenizer);
  const chat = hfChatFormatter(name, folder, tc);
  if (opts.shared) return { identity: opts.shared.identity, weights: attachWeights(opts.shared).weights, tokenizer, chat, addBos };

  const set = await SafetensorsSet.open(folder);
  let weights: ModelWeights;
  try {
    weights = await readWeights(set, info.config, info.tieDeclared, opts.widenAtLoad ?? false);
  } finally {
    await set.close();
  }

  const digests = [];
  for (const file of set.files) {
    const known = opts.knownSha256?.[basename(file)];
    digests.push({ name: basename(file), sha256: known ?? (await sha256File(file)) });
  }

  return {
    identity: { name, nLayers: info.config.nLayers, dModel: info.config.dim, weightsSha256: combineWeightDigests(digests) },
    weights,
    tokenizer,
    chat,
    addBos,
  };
}

/** tokenizer_config's add_bos_token, else what tokenizer.json's post-processor does; never without a BOS token */
export function hfAddsBos(tc: TokenizerConfig, postProcessorAddsBos: boolean, tokenizer: Tokenizer): boolean {
  return (tc.addBosToken ?? postProcessorAddsBos) && tokenizer.bosId !== null;
}

/** the folder's own chat template, else the plain role-labelled format */
export function hfChatFormatter(name: string, folder: string, tc: TokenizerConfig): ChatFormatter {
  if (!tc.chatTemplate) return plainChat;
  const tokens = { bos_token: tc.bosToken, eos_token: tc.eosToken, unk_token: tc.raw.unk_token as string | null, pad_token: tc.raw.pad_token as string | null };
  return jinjaChatFormatter(name, join(folder, 'tokenizer_config.json'), tc.chatTemplate, tokens);
}

async function readWeights(set: SafetensorsSet, config: ModelConfig, tieDeclared: boolean, widenAtLoad: boolean): Promise<ModelWeights> {
  const { dim, hiddenDim, nHeads, nKvHeads, headDim, vocabSize, nLayers } = config;
  const qDim = nHeads * headDim;
  const kvDim = nKvHeads * headDim;
  // the model's own kernel memory: it goes back to the system with the model
  const arena = newKernelArena();

  const check = (name: string, shape: number[]): void => {
    const t = set.info(name);
    if (!t) throw new SclabError('model', `tensor "${name}" is missing from ${set.files.map((f) => basename(f)).join(', ')} (config.json describes a ${config.family} model with ${nLayers} layers)`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new SclabError('model', `${basename(t.file)}: tensor "${name}" has shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
  };
  // vectors (norms, biases) are fp32; matrices keep a 16-bit checkpoint's format unless asked to widen
  const read = async (name: string, shape: number[]): Promise<Float32Array> => {
    check(name, shape);
    return set.read(name, arena);
  };
  const matrix = async (name: string, shape: number[]): Promise<WeightMatrix> => {
    check(name, shape);
    return widenAtLoad ? set.read(name, arena) : set.readMatrix(name, arena);
  };

  const tokenEmbedding = await matrix('model.embed_tokens.weight', [vocabSize, dim]);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    const p = `model.layers.${l}.`;
    const layer: LayerWeights = {
      attnNorm: await read(`${p}input_layernorm.weight`, [dim]),
      wq: await matrix(`${p}self_attn.q_proj.weight`, [qDim, dim]),
      wk: await matrix(`${p}self_attn.k_proj.weight`, [kvDim, dim]),
      wv: await matrix(`${p}self_attn.v_proj.weight`, [kvDim, dim]),
      wo: await matrix(`${p}self_attn.o_proj.weight`, [dim, qDim]),
      ffnNorm: await read(`${p}post_attention_layernorm.weight`, [dim]),
      w1: await matrix(`${p}mlp.gate_proj.weight`, [hiddenDim, dim]),
      w2: await matrix(`${p}mlp.down_proj.weight`, [dim, hiddenDim]),
      w3: await matrix(`${p}mlp.up_proj.weight`, [hiddenDim, dim]),
    };
    if (config.qkvBias) {
      layer.bq = await read(`${p}self_attn.q_proj.bias`, [qDim]);
      layer.bk = await read(`${p}self_attn.k_proj.bias`, [kvDim]);
      layer.bv = await read(`${p}self_attn.v_proj.bias`, [kvDim]);
    }
    layers.push(layer);
  }
  const finalNorm = await read('model.norm.weight', [dim]);

  const hasHead = set.info('lm_head.weight') !== undefined;
  // A config that leaves tie_word_embeddings out but ships no lm_head can only mean tied embeddings.
  const tied = config.tiedEmbeddings || (!tieDeclared && !hasHead);
  if (!tied && !hasHead) {
    throw new SclabError('model', `config.json sets tie_word_embeddings to false but no weight file holds "lm_head.weight"`);
  }
  // Tied models share one array, as transformers does (it ignores a stored lm_head when tied).
  const output = tied ? tokenEmbedding : await matrix('lm_head.weight', [vocabSize, dim]);
  return { config: { ...config, tiedEmbeddings: tied }, tokenEmbedding, layers, finalNorm, output };
}
