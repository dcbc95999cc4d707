// stories260K re-written as a Hugging Face Llama folder — the rotate-half Q/K row layout, safetensors, and a
// tokenizer.json converted from tok512.bin — for the loader test and the GPU-machine checks against transformers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { widenedF32, type WeightMatrix } from '../../src/core/engine/kernels';
import type { LoadedModel } from '../../src/core/engine/types';
import { safetensorsBytes, type TensorSpec } from '../engine-hf/fixtures';

/**
 * HF's convert_llama_weights_to_hf permute: rows of each head go from interleaved pairs (2j, 2j+1) to rotate-half
 * pairs (j, j + headDim/2): new row p*half + i = old row 2i + p.
 */
export function permuteRowsToRotateHalf(matrix: WeightMatrix, nHeads: number, headDim: number, inDim: number): Float32Array {
  const w = widenedF32(matrix);
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < half; i++) {
        const from = (h * headDim + 2 * i + p) * inDim;
        const to = (h * headDim + p * half + i) * inDim;
        out.set(w.subarray(from, from + inDim), to);
      }
    }
  }
  return out;
}

/** tok512.bin → a Llama-style tokenizer.json (Metaspace, byte fallback, merges ranked by the merged piece's score). */
export function tokenizerJsonFromTok512(file: string): object {
  const buf = readFileSync(file);
  let at = 4;
  const pieces: string[] = [];
  const scores: number[] = [];
  while (at < buf.length) {
    scores.push(buf.readFloatLE(at));
    const len = buf.readInt32LE(at + 4);
    pieces.push(buf.subarray(at + 8, at + 8 + len).toString('utf8'));
    at += 8 + len;
  }
  const hfPiece = (p: string) => p.replaceAll(' ', '▁');
  const vocab: Record<string, number> = {};
  pieces.forEach((p, id) => (vocab[id < 3 ? ['<unk>', '<s>', '</s>'][id]! : hfPiece(p)] = id));
  const merges: Array<{ a: string; b: string; score: number; id: number }> = [];
  pieces.forEach((raw, id) => {
    if (id < 3 + 256) return;
    const p = [...hfPiece(raw)];
    for (let k = 1; k < p.length; k++) {
      const a = p.slice(0, k).join('');
      const b = p.slice(k).join('');
      if (vocab[a] !== undefined && vocab[b] !== undefined) merges.push({ a, b, score: scores[id]!, id });
    }
  });
  merges.sort((x, y) => y.score - x.score || x.id - y.id);
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: merges.map((m) => [m.a, m.b]) },
  };
}

/**
 * Writes the llama2.c model as a Hugging Face Llama folder (F32 safetensors + config.json, and, given the
 * tok512.bin, tokenizer.json + tokenizer_config.json) into `dir`; returns `dir`.
 */
export function writeStoriesAsHf(model: LoadedModel, dir: string, tok512?: string): string {
  const { config: c, layers, tokenEmbedding, finalNorm } = model.weights;
  const kvDim = c.nKvHeads * c.headDim;
  const t: TensorSpec[] = [];
  const add = (name: string, shape: number[], data: WeightMatrix) => t.push({ name, shape, data: widenedF32(data), dtype: 'F32' });
  add('model.embed_tokens.weight', [c.vocabSize, c.dim], tokenEmbedding);
  layers.forEach((l, i) => {
    const p = `model.layers.${i}.`;
    add(`${p}input_layernorm.weight`, [c.dim], l.attnNorm);
    add(`${p}self_attn.q_proj.weight`, [c.dim, c.dim], permuteRowsToRotateHalf(l.wq, c.nHeads, c.headDim, c.dim));
    add(`${p}self_attn.k_proj.weight`, [kvDim, c.dim], permuteRowsToRotateHalf(l.wk, c.nKvHeads, c.headDim, c.dim));
    add(`${p}self_attn.v_proj.weight`, [kvDim, c.dim], l.wv);
    add(`${p}self_attn.o_proj.weight`, [c.dim, c.dim], l.wo);
    add(`${p}post_attention_layernorm.weight`, [c.dim], l.ffnNorm);
    add(`${p}mlp.gate_proj.weight`, [c.hiddenDim, c.dim], l.w1);
    add(`${p}mlp.up_proj.weight`, [c.hiddenDim, c.dim], l.w3);
    add(`${p}mlp.down_proj.weight`, [c.dim, c.hiddenDim], l.w2);
  });
  add('model.norm.weight', [c.dim], finalNorm);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(t));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: c.dim,
      intermediate_size: c.hiddenDim,
      num_hidden_layers: c.nLayers,
      num_attention_heads: c.nHeads,
      num_key_value_heads: c.nKvHeads,
      max_position_embeddings: c.maxSeqLen,
      rms_norm_eps: c.rmsNormEps,
      rope_theta: c.ropeTheta,
      tie_word_embeddings: true,
      vocab_size: c.vocabSize,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: 'silu',
    }),
  );
  if (tok512) {
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJsonFromTok512(tok512)));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: true, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false }));
  }
  return dir;
}
