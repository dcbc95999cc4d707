// `sclab engine …` run through commander in this process (the engine runs in-process here: no bundle under vitest).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { registerEngineCommand } from '../../src/cli/commands/engine';
import { scoreContinuation } from '../../src/core/engine/session';
import { BOS, MODEL_DIR, REFERENCE_STORY, maxAbsDiff, stories } from './fixtures';

async function sclab(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerEngineCommand(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    await program.parseAsync(['node', 'sclab', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}
afterEach(() => vi.restoreAllMocks());

describe('sclab engine', () => {
  it('generate --json gives the greedy story from BOS', async () => {
    const n = (await stories()).tokenizer.encode(REFERENCE_STORY).length;
    const r = JSON.parse(await sclab('engine', 'generate', '--model', MODEL_DIR, '--max-tokens', String(n), '--json')) as { text: string; tokens: number[] };
    expect(r.text).toBe(REFERENCE_STORY);
    expect(r.tokens).toHaveLength(n);
    const text = await sclab('engine', 'generate', '--model', MODEL_DIR, '--prompt', 'Once upon a time', '--max-tokens', '5');
    expect(text.startsWith('Once upon a time,')).toBe(true);
  });

  it('score --json gives each token’s logprob after BOS', async () => {
    const r = JSON.parse(await sclab('engine', 'score', '--model', MODEL_DIR, '--text', 'The dog ran fast.', '--json')) as { tokens: number[]; logprobs: number[]; total: number };
    const m = await stories();
    expect(r.tokens).toEqual(m.tokenizer.encode('The dog ran fast.'));
    const direct = await scoreContinuation(m, [BOS], r.tokens);
    expect(maxAbsDiff(r.logprobs, direct.logprobs)).toBe(0);
    expect(r.total).toBeCloseTo(direct.total, 6);
    const table = await sclab('engine', 'score', '--model', MODEL_DIR, '--text', 'The dog');
    expect(table).toMatch(/total -\d+\.\d{4} over \d+ tokens/);
  });

  it('hidden --json gives the residual stream of every layer', async () => {
    const r = JSON.parse(await sclab('engine', 'hidden', '--model', MODEL_DIR, '--text', 'A cat', '--json')) as { layers: number[][] };
    expect(r.layers).toHaveLength(6);
    for (const v of r.layers) expect(v).toHaveLength(64);
    const all = JSON.parse(await sclab('engine', 'hidden', '--model', MODEL_DIR, '--text', 'A cat', '--position', 'all', '--json')) as { layers: number[][][]; nTokens: number };
    expect(all.layers[5]).toHaveLength(all.nTokens);
    expect(all.layers[5]![all.nTokens - 1]).toEqual(r.layers[5]);
    expect(await sclab('engine', 'hidden', '--model', MODEL_DIR, '--text', 'A cat')).toMatch(/^embeddings +norm/);
  });

  it('rejects bad flags with config errors', async () => {
    await expect(sclab('engine', 'hidden', '--model', MODEL_DIR, '--text', 'x', '--position', 'first')).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/last, mean, all/) });
    await expect(sclab('engine', 'generate', '--model', MODEL_DIR, '--max-tokens', 'many')).rejects.toMatchObject({ code: 'config' });
    await expect(sclab('engine', 'generate', '--model', '/nonexistent/model')).rejects.toMatchObject({ code: 'model' });
  });
});
