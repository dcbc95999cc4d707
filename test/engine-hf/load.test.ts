import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHfConfig } from '../../src/core/engine/hf/config';
import { loadHfModel } from '../../src/core/engine/hf/load';
import { tokenizeText } from '../../src/core/engine/host';
import { HalfMatrix, widenedF32, type WeightMatrix } from '../../src/core/engine/kernels';
import { generate, nextTokenLogits } from '../../src/core/engine/session';
import { SclabError } from '../../src/core/model/errors';
import { writeHfFolder, type Folder } from './fixtures';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function expectSameTensors(folder: Folder, got: WeightMatrix, name: string) {
  const t = folder.tensors.get(name)!;
  expect(got.length).toBe(t.data.length);
  expect(Array.from(widenedF32(got))).toEqual(Array.from(t.data));
}

describe('loadHfModel', () => {
  it('llama with tied embeddings (SmolLM2-like, BF16, ChatML template)', async () => {
    const f = writeHfFolder({ family: 'llama', dtype: 'BF16', tied: true, configExtra: { _name_or_path: 'HuggingFaceTB/Tiny-Test' } });
    const m = await loadHfModel(f.dir);
    const c = m.weights.config;
    expect(c).toMatchObject({ family: 'llama', dim: 16, nHeads: 4, nKvHeads: 4, headDim: 4, hiddenDim: 24, nLayers: 2, vocabSize: f.vocab, ropeStyle: 'half', tiedEmbeddings: true, qkvBias: false, ropeTheta: 10000, rmsNormEps: 1e-5, maxSeqLen: 64 });
    expect(m.weights.output).toBe(m.weights.tokenEmbedding);
    expect(m.weights.layers).toHaveLength(2);
    expectSameTensors(f, m.weights.tokenEmbedding, 'model.embed_tokens.weight');
    expectSameTensors(f, m.weights.layers[1]!.w1, 'model.layers.1.mlp.gate_proj.weight');
    expectSameTensors(f, m.weights.layers[1]!.w3, 'model.layers.1.mlp.up_proj.weight');
    expectSameTensors(f, m.weights.layers[1]!.w2, 'model.layers.1.mlp.down_proj.weight');
    expectSameTensors(f, m.weights.finalNorm, 'model.norm.weight');
    expect(m.weights.layers[0]!.bq).toBeUndefined();
    expect(m.identity).toEqual({ name: 'HuggingFaceTB/Tiny-Test', nLayers: 2, dModel: 16, weightsSha256: sha(join(f.dir, 'model.safetensors')) });

    // byte-level BPE: no automatic BOS, special tokens in text map to their ids, merges apply
    expect(m.addBos).toBe(false);
    expect(m.tokenizer.bosId).toBe(1); // tokenizer_config bos_token <|im_start|>
    expect(m.tokenizer.eosIds).toEqual([2, 0]);
    expect(m.tokenizer.vocabSize).toBe(f.vocab);
    const ids = m.tokenizer.encode('<|im_start|>user\nthe cat<|im_end|>');
    expect(ids[0]).toBe(1);
    expect(ids[ids.length - 1]).toBe(2);
    expect(m.tokenizer.decode(ids)).toBe('<|im_start|>user\nthe cat<|im_end|>');
    expect(m.tokenizer.decode(m.tokenizer.encode(' the'))).toBe(' the');
    expect(m.tokenizer.encode(' the')).toHaveLength(1);
    expect(m.tokenizer.decode([])).toBe('');

    const text = m.chat.render([{ role: 'user', content: 'Is it fair?' }], 'The answer is (');
    expect(text).toBe('<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n<|im_start|>user\nIs it fair?<|im_end|>\n<|im_start|>assistant\nThe answer is (');
  });

  it('mistral untied with GQA (F16, SentencePiece-style tokenizer, BOS added once)', async () => {
    const f = writeHfFolder({ family: 'mistral', dtype: 'F16', tied: false, nHeads: 4, nKvHeads: 2 });
    const m = await loadHfModel(f.dir);
    const c = m.weights.config;
    expect(c).toMatchObject({ family: 'mistral', nHeads: 4, nKvHeads: 2, headDim: 4, tiedEmbeddings: false, maxSeqLen: 32 }); // capped at sliding_window
    expect(m.weights.output).not.toBe(m.weights.tokenEmbedding);
    expectSameTensors(f, m.weights.output, 'lm_head.weight');
    expect(m.weights.layers[0]!.wk.length).toBe(2 * 4 * 16);
    expectSameTensors(f, m.weights.layers[0]!.wk, 'model.layers.0.self_attn.k_proj.weight');
    expectSameTensors(f, m.weights.layers[1]!.wo, 'model.layers.1.self_attn.o_proj.weight');

    expect(m.addBos).toBe(true);
    expect(m.tokenizer.bosId).toBe(1);
    expect(m.tokenizer.eosIds).toEqual([2]);
    const ids = m.tokenizer.encode('the cat');
    expect(ids[0]).not.toBe(1); // encode never adds BOS itself
    expect(m.tokenizer.decode(ids)).toBe('the cat');
    // byte fallback: "é" is not a piece, so its two UTF-8 bytes become <0xC3> <0xA9> after the "▁" prefix
    expect(m.tokenizer.encode('é').slice(1)).toEqual([3 + 0xc3, 3 + 0xa9]);
    expect(m.tokenizer.decode(m.tokenizer.encode('é à'))).toBe('é à');
    const text = m.chat.render([{ role: 'user', content: 'Hi' }], 'Sure');
    // the prefill is the final assistant message, continued: the template's eos after it is cut off
    expect(text).toBe('<s>[INST] Hi [/INST]Sure');
    // the template writes <s>: it tokenizes to the BOS id and the engine adds none, so the model sees exactly one
    const chatIds = tokenizeText(m.tokenizer, text, m.addBos);
    expect(chatIds[0]).toBe(1);
    expect(chatIds.filter((id) => id === 1)).toHaveLength(1);
    expect(tokenizeText(m.tokenizer, m.tokenizer.decode(chatIds.slice(1)), m.addBos)).toEqual(chatIds);
    const err = (() => {
      try {
        m.chat.render([{ role: 'assistant', content: 'x' }], '');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SclabError);
    expect((err as Error).message).toMatch(/roles must alternate/);
  });

  it('qwen2 with q/k/v biases, F32, sharded with an index', async () => {
    const f = writeHfFolder({ family: 'qwen2', dtype: 'F32', tied: true, nHeads: 4, nKvHeads: 1, sharded: true });
    const m = await loadHfModel(f.dir, { name: 'qwen-test' });
    expect(m.weights.config).toMatchObject({ family: 'qwen2', qkvBias: true, nKvHeads: 1, ropeTheta: 1e6, tiedEmbeddings: true });
    const l = m.weights.layers[1]!;
    expectSameTensors(f, l.bq!, 'model.layers.1.self_attn.q_proj.bias');
    expectSameTensors(f, l.bk!, 'model.layers.1.self_attn.k_proj.bias');
    expectSameTensors(f, l.bv!, 'model.layers.1.self_attn.v_proj.bias');
    expect(l.bk!.length).toBe(4);
    expect(m.identity.name).toBe('qwen-test');
    const digest = (n: string) => sha(join(f.dir, n));
    const lines = `${digest('model-00001-of-00002.safetensors')}  model-00001-of-00002.safetensors\n${digest('model-00002-of-00002.safetensors')}  model-00002-of-00002.safetensors\n`;
    expect(m.identity.weightsSha256).toBe(createHash('sha256').update(lines).digest('hex'));
    expect(m.tokenizer.bosId).toBeNull(); // tokenizer_config says bos_token: null
    expect(m.addBos).toBe(false);
  });

  it('uses the plain format for models without a chat template, and the folder name without _name_or_path', async () => {
    const f = writeHfFolder({ family: 'llama', dtype: 'F32', tied: true, template: null });
    const m = await loadHfModel(f.dir);
    expect(m.chat.name).toBe('plain');
    expect(m.chat.render([{ role: 'user', content: 'Hi' }], 'Yes')).toBe('User: Hi\n\nAssistant: Yes');
    expect(m.identity.name).toBe(f.dir.split('/').pop());
  });

  it('reads chat_template.jinja when tokenizer_config.json has no template', async () => {
    const f = writeHfFolder({ family: 'llama', dtype: 'F32', tied: true, template: null });
    writeFileSync(join(f.dir, 'chat_template.jinja'), '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}');
    const m = await loadHfModel(f.dir);
    expect(m.chat.render([{ role: 'user', content: 'Q' }], 'A')).toBe('<user>Q<assistant>A');
  });

  it('names the missing tensor and the shape mismatch', async () => {
    const f = writeHfFolder({ family: 'mistral', dtype: 'F32', tied: false });
    const cfg = JSON.parse(readFileSync(join(f.dir, 'config.json'), 'utf8'));
    writeFileSync(join(f.dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 20 }));
    await expect(loadHfModel(f.dir)).rejects.toThrow(/model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[24, 16\], config\.json implies \[20, 16\]/);
    writeFileSync(join(f.dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
    await expect(loadHfModel(f.dir)).rejects.toThrow(/"model\.layers\.2\.input_layernorm\.weight" is missing/);
    writeFileSync(join(f.dir, 'config.json'), JSON.stringify({ ...cfg, tie_word_embeddings: undefined }));
    const untied = await loadHfModel(f.dir); // lm_head present, tie unspecified: untied like transformers
    expect(untied.weights.output).not.toBe(untied.weights.tokenEmbedding);
    rmSync(join(f.dir, 'tokenizer.json'));
    await expect(loadHfModel(f.dir)).rejects.toThrow(/tokenizer\.json/);
  });
});

describe('parseHfConfig', () => {
  const base = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 };

  it('fills defaults: kv heads = heads, head_dim = hidden / heads', () => {
    const { config } = parseHfConfig(base, 'config.json');
    expect(config).toMatchObject({ nKvHeads: 4, headDim: 16, ropeTheta: 10000, tiedEmbeddings: false, maxSeqLen: 2048 });
  });

  it('takes an explicit head_dim and transformers-5 rope_parameters', () => {
    const { config } = parseHfConfig({ ...base, head_dim: 32, rope_parameters: { rope_theta: 500000, rope_type: 'default' } }, 'config.json');
    expect(config).toMatchObject({ headDim: 32, ropeTheta: 500000 });
  });

  it('refuses what the engine cannot run, saying why', () => {
    const bad = (extra: object) => () => parseHfConfig({ ...base, ...extra }, '/m/config.json');
    expect(bad({ architectures: ['GPT2LMHeadModel'] })).toThrow(/GPT2LMHeadModel is not supported.*LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM/);
    expect(bad({ rope_scaling: { rope_type: 'llama3', factor: 8 } })).toThrow(/\/m\/config\.json: field "rope_scaling" asks for "llama3" RoPE scaling/);
    expect(bad({ rope_scaling: { type: 'linear', factor: 2 } })).toThrow(/"linear"/);
    expect(bad({ hidden_act: 'gelu' })).toThrow(/silu/);
    expect(bad({ num_key_value_heads: 3 })).toThrow(/must divide/);
    expect(bad({ hidden_size: undefined })).toThrow(/"hidden_size" is missing/);
    expect(bad({ attention_bias: true })).toThrow(/attention_bias/);
    expect(bad({ vocab_size: -1 })).toThrow(/"vocab_size" must be a positive integer/);
  });

  it('accepts rope_scaling null and default, and reads token ids', () => {
    const info = parseHfConfig({ ...base, rope_scaling: null, bos_token_id: 1, eos_token_id: [2, 3], _name_or_path: 'x/y' }, 'c');
    expect(info).toMatchObject({ bosTokenId: 1, eosTokenIds: [2, 3], nameOrPath: 'x/y', architecture: 'LlamaForCausalLM' });
  });

  it('caps the context at an active sliding window only', () => {
    const q = { ...base, architectures: ['Qwen2ForCausalLM'], max_position_embeddings: 32768, sliding_window: 4096 };
    expect(parseHfConfig({ ...q, use_sliding_window: false }, 'c').config.maxSeqLen).toBe(32768);
    expect(parseHfConfig({ ...q, use_sliding_window: true }, 'c').config.maxSeqLen).toBe(4096);
    expect(parseHfConfig({ ...base, architectures: ['MistralForCausalLM'], max_position_embeddings: 32768, sliding_window: null }, 'c').config.maxSeqLen).toBe(32768);
  });
});

describe('16-bit checkpoints kept 16-bit', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}: half the weight memory, the same logits and greedy text as widening at load`, async () => {
      const f = writeHfFolder({ family: 'qwen2', dtype, tied: false, nHeads: 4, nKvHeads: 2, dim: 32, hiddenDim: 48 });
      const kept = await loadHfModel(f.dir);
      const wide = await loadHfModel(f.dir, { widenAtLoad: true });
      const k = kept.weights.layers[0]!;
      const w = wide.weights.layers[0]!;
      expect(k.w1).toBeInstanceOf(HalfMatrix);
      expect(kept.weights.output).toBeInstanceOf(HalfMatrix);
      expect(w.w1).toBeInstanceOf(Float32Array);
      expect((k.w1 as HalfMatrix).bits.byteLength * 2).toBe((w.w1 as Float32Array).byteLength);
      expect(k.bq).toBeInstanceOf(Float32Array); // vectors stay fp32
      const ids = kept.tokenizer.encode('<|im_start|>user\nthe cat sat<|im_end|>');
      expect(Array.from(nextTokenLogits(kept, ids))).toEqual(Array.from(nextTokenLogits(wide, ids)));
      const opts = { maxTokens: 12, temperature: 0, ignoreEos: true };
      const a = await generate(kept, ids, opts);
      const b = await generate(wide, ids, opts);
      expect(a.tokens).toHaveLength(12);
      expect(a.tokens).toEqual(b.tokens);
      expect(a.logprobs).toEqual(b.logprobs);
      expect(a.text).toBe(b.text);
    });
  }
});
