// Writes stories260K as a Hugging Face Llama folder (rotate-half Q/K rows, safetensors, tokenizer.json converted
// from tok512.bin) to tmp/sidecarcheck/stories-hf, for the Python sidecar and `sclab serve` to serve the same
// model (see README.md). Run from the repo root after bundling with esbuild.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLlama2c } from '../../../src/core/engine/llama2c';
import { safetensorsBytes, type TensorSpec } from '../../engine-hf/fixtures';

const STORIES = join(process.cwd(), '../shared/models/stories260K');
const out = join(process.cwd(), 'tmp/sidecarcheck/stories-hf');

/** HF's convert_llama_weights_to_hf permutation: per head, rows (2j, 2j+1) → (j, j + headDim/2) */
function toRotateHalf(w: Float32Array, heads: number, headDim: number, dim: number): Float32Array {
  const o = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < headDim / 2; j++) {
      o.set(w.subarray((h * headDim + 2 * j) * dim, (h * headDim + 2 * j + 1) * dim), (h * headDim + j) * dim);
      o.set(w.subarray((h * headDim + 2 * j + 1) * dim, (h * headDim + 2 * j + 2) * dim), (h * headDim + j + headDim / 2) * dim);
    }
  return o;
}

/** tok512.bin → a Llama-style tokenizer.json (as test/engine-hf/stories-hf.test.ts converts it) */
function tokenizerJson(file: string): object {
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

const m = await loadLlama2c(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));
const c = m.weights.config;
const kvDim = c.nKvHeads * c.headDim;
const t: TensorSpec[] = [];
const add = (name: string, shape: number[], data: Float32Array): void => void t.push({ name, shape, data, dtype: 'F32' });
add('model.embed_tokens.weight', [c.vocabSize, c.dim], m.weights.tokenEmbedding);
m.weights.layers.forEach((l, i) => {
  const p = `model.layers.${i}.`;
  add(`${p}input_layernorm.weight`, [c.dim], l.attnNorm);
  add(`${p}self_attn.q_proj.weight`, [c.dim, c.dim], toRotateHalf(l.wq, c.nHeads, c.headDim, c.dim));
  add(`${p}self_attn.k_proj.weight`, [kvDim, c.dim], toRotateHalf(l.wk, c.nKvHeads, c.headDim, c.dim));
  add(`${p}self_attn.v_proj.weight`, [kvDim, c.dim], l.wv);
  add(`${p}self_attn.o_proj.weight`, [c.dim, c.dim], l.wo);
  add(`${p}post_attention_layernorm.weight`, [c.dim], l.ffnNorm);
  add(`${p}mlp.gate_proj.weight`, [c.hiddenDim, c.dim], l.w1);
  add(`${p}mlp.up_proj.weight`, [c.hiddenDim, c.dim], l.w3);
  add(`${p}mlp.down_proj.weight`, [c.dim, c.hiddenDim], l.w2);
});
add('model.norm.weight', [c.dim], m.weights.finalNorm);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'model.safetensors'), safetensorsBytes(t));
writeFileSync(
  join(out, 'config.json'),
  JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.dim, intermediate_size: c.hiddenDim, num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads, num_key_value_heads: c.nKvHeads, max_position_embeddings: c.maxSeqLen, rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta, tie_word_embeddings: true, vocab_size: c.vocabSize, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu',
  }),
);
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizerJson(join(STORIES, 'tok512.bin'))));
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: true, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false }));
console.log(`wrote ${out}`);
