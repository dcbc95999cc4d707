import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLlama2c } from '../../src/core/engine/llama2c';
import { loadLocalModel } from '../../src/core/engine/load-local';
import { plainChat } from '../../src/core/engine/plain-chat';
import { generate, nextTokenLogits } from '../../src/core/engine/session';
import { SclabError } from '../../src/core/model/errors';
import { BIN, BOS, MODEL_DIR, REFERENCE_STORY, TOK, maxAbsDiff, stories } from './fixtures';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sclab-llama2c-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function loadError(bytes: Uint8Array): Promise<SclabError> {
  const f = path.join(tmp, `m${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(f, bytes);
  try {
    await loadLlama2c(f, TOK);
  } catch (e) {
    expect(e).toBeInstanceOf(SclabError);
    return e as SclabError;
  }
  throw new Error('loaded a broken checkpoint');
}

describe('llama2.c checkpoint loader', () => {
  it('reads stories260K’s shape and identity', async () => {
    const m = await stories();
    expect(m.weights.config).toEqual({
      family: 'llama2c',
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      maxSeqLen: 512,
      ropeTheta: 10000,
      ropeStyle: 'interleaved',
      rmsNormEps: 1e-5,
      tiedEmbeddings: true,
      qkvBias: false,
    });
    expect(m.identity).toEqual({ name: 'stories260K', nLayers: 5, dModel: 64, weightsSha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696' });
    expect(m.weights.output).toBe(m.weights.tokenEmbedding);
    expect(m.weights.layers[4]!.w2.length).toBe(64 * 172);
    expect(m.addBos).toBe(true);
    expect(m.chat).toBe(plainChat);
  });

  it('reproduces SOURCE.md’s greedy story from BOS token for token', async () => {
    const m = await stories();
    const expected = m.tokenizer.encode(REFERENCE_STORY);
    const r = await generate(m, [BOS], { maxTokens: expected.length, temperature: 0 });
    expect(r.tokens).toEqual(expected);
    expect(r.text).toBe(REFERENCE_STORY);
    expect(r.finishReason).toBe('length');
  });

  it('rejects a truncated file, extra bytes, a versioned export and a nonsense header, naming the file', async () => {
    const raw = readFileSync(BIN);
    const cut = await loadError(raw.subarray(0, raw.length - 4));
    expect(cut.code).toBe('model');
    expect(cut.message).toMatch(/truncated: .* needs 1056540 bytes, the file has 1056536/);
    expect((await loadError(Buffer.concat([raw, Buffer.alloc(8)]))).message).toMatch(/8 bytes more than the header implies/);
    const magic = Buffer.from(raw);
    magic.writeUInt32LE(0x616b3432, 0);
    expect((await loadError(magic)).message).toMatch(/versioned llama2.c export/);
    const bad = Buffer.from(raw);
    bad.writeInt32LE(0, 8); // n_layers = 0
    expect((await loadError(bad)).message).toMatch(/n_layers = 0/);
    expect((await loadError(raw.subarray(0, 10))).message).toMatch(/shorter than the 28-byte/);
  });

  it('reads an unshared classifier (negative vocab_size) after freq_cis', async () => {
    const raw = readFileSync(BIN);
    const emb = raw.subarray(28, 28 + 512 * 64 * 4);
    const unshared = Buffer.concat([raw, emb]);
    unshared.writeInt32LE(-512, 20);
    const f = path.join(tmp, 'unshared.bin');
    writeFileSync(f, unshared);
    const base = await stories();
    const m = await loadLlama2c(f, TOK);
    expect(m.weights.config.tiedEmbeddings).toBe(false);
    expect(m.weights.output).not.toBe(m.weights.tokenEmbedding);
    expect(m.identity.weightsSha256).toBe(createHash('sha256').update(unshared).digest('hex'));
    const ids = [BOS, ...base.tokenizer.encode('Once upon')];
    expect(maxAbsDiff(nextTokenLogits(m, ids), nextTokenLogits(base, ids))).toBe(0);
    // a different classifier changes the logits (the loader really reads wcls)
    const output = m.weights.output as Float32Array; // llama2.c checkpoints are fp32
    output[0] = output[0]! + 1;
    expect(maxAbsDiff(nextTokenLogits(m, ids), nextTokenLogits(base, ids))).toBeGreaterThan(0);
  });

  it('loads from a folder or a .bin path and explains what is missing', async () => {
    expect((await loadLocalModel(MODEL_DIR)).identity.name).toBe('stories260K');
    expect((await loadLocalModel(BIN)).identity.name).toBe('stories260K');
    expect((await loadLocalModel({ kind: 'llama2c', bin: BIN, tokenizer: TOK })).identity.name).toBe('stories260K');
    const lonely = path.join(tmp, 'lonely');
    rmSync(lonely, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(lonely);
    copyFileSync(BIN, path.join(lonely, 'model.bin'));
    await expect(loadLocalModel(lonely)).rejects.toThrow(/no llama2.c tokenizer/);
    await expect(loadLocalModel(path.join(tmp, 'nope'))).rejects.toThrow(/does not exist/);
  });
});

describe('plain chat format', () => {
  it('labels turns and ends with the assistant label and the prefill', () => {
    const msgs = [
      { role: 'system' as const, content: 'Be kind.' },
      { role: 'user' as const, content: 'Hi?' },
      { role: 'assistant' as const, content: 'Hello.' },
      { role: 'user' as const, content: 'Answer:' },
    ];
    expect(plainChat.render(msgs, 'The answer is')).toBe('System: Be kind.\n\nUser: Hi?\n\nAssistant: Hello.\n\nUser: Answer:\n\nAssistant: The answer is');
    expect(plainChat.render(msgs.slice(1, 2), '')).toBe('User: Hi?\n\nAssistant:');
  });
});
