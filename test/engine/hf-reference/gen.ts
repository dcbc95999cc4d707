// Writes stories260K as a Hugging Face Llama folder plus our engine's outputs on one input, for check.py to compare
// against transformers' LlamaForCausalLM (see README.md). Run from the repo root.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLlama2c } from '../../../src/core/engine/llama2c';
import { hiddenStates, scoreContinuation } from '../../../src/core/engine/session';
import { ForwardState } from '../../../src/core/engine/transformer';
import { safetensorsBytes, type TensorSpec } from '../../engine-hf/fixtures';

const STORIES = join(process.cwd(), '../shared/models/stories260K');
const out = join(process.cwd(), 'tmp/enginecheck');

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
mkdirSync(join(out, 'stories-hf'), { recursive: true });
writeFileSync(join(out, 'stories-hf/model.safetensors'), safetensorsBytes(t));
writeFileSync(
  join(out, 'stories-hf/config.json'),
  JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: c.dim, intermediate_size: c.hiddenDim, num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads, num_key_value_heads: c.nKvHeads, max_position_embeddings: c.maxSeqLen, rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta, tie_word_embeddings: true, vocab_size: c.vocabSize, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu',
  }),
);

const ids = [1, ...m.tokenizer.encode('Once upon a time, Tom found a shiny red box under his bed. He opened it and')];
const rows = (a: Float32Array): number[][] => Array.from({ length: a.length / c.dim }, (_, r) => Array.from(a.subarray(r * c.dim, (r + 1) * c.dim)));
const all = (convention: 'sclab' | 'hf') => hiddenStates(m, ids, { position: 'all', modules: ['residual', 'attn', 'mlp'], convention });
const [sclab, hf] = [await all('sclab'), await all('hf')];
const fwd = new ForwardState(m.weights).forward(ids, { logitsFrom: 0 });
const score = await scoreContinuation(m, ids.slice(0, 5), ids.slice(5));
writeFileSync(
  join(out, 'ours.json'),
  JSON.stringify({
    ids,
    logits: Array.from({ length: ids.length }, (_, r) => Array.from(fwd.logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize))),
    hidden_hf: hf.residual!.map(rows),
    residual_sclab: sclab.residual!.map(rows),
    attn: sclab.attn!.map(rows),
    mlp: sclab.mlp!.map(rows),
    score_from: 5,
    score_logprobs: score.logprobs,
  }),
);
console.log(`wrote ${out}: ${ids.length} tokens`);
