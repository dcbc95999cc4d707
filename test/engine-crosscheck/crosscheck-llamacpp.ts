// `npm run crosscheck:llamacpp [-- --write]`: recomputes the llama.cpp reference of the engine cross-check with
// node-llama-cpp (installed on demand into the tools cache) and compares it with the committed fixture; --write
// rewrites the fixture instead. Exit 1 when they differ.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLlamaCpp } from '../../bench/support/llamacpp';
import { STORIES_BIN, STORIES_TOK } from '../support/data';
import { llama2cToGguf } from '../support/gguf';
import { computeReference, readReference, REFERENCE_FILE, type LlamaCppReference } from './llamacpp-reference';

/** Differences between two references: tokens must be equal, log-probabilities within 1e-5 × max(1, |lp|). */
function differences(want: LlamaCppReference, got: LlamaCppReference): { problems: string[]; maxDelta: number } {
  const problems: string[] = [];
  let maxDelta = 0;
  if (JSON.stringify(want.model) !== JSON.stringify(got.model)) problems.push(`model: ${JSON.stringify(got.model)} vs committed ${JSON.stringify(want.model)}`);
  if (want.texts.length !== got.texts.length) problems.push(`${got.texts.length} texts vs ${want.texts.length}`);
  want.texts.forEach((w, i) => {
    const g = got.texts[i];
    if (!g || g.text !== w.text) return problems.push(`text ${i}: not the same text`);
    if (JSON.stringify(g.tokens) !== JSON.stringify(w.tokens)) return problems.push(`text ${i}: tokens ${JSON.stringify(g.tokens)} vs committed ${JSON.stringify(w.tokens)}`);
    w.logprobs.forEach((lp, t) => {
      const d = Math.abs(lp - g.logprobs[t]!);
      maxDelta = Math.max(maxDelta, d);
      if (!(d <= 1e-5 * Math.max(1, Math.abs(lp)))) problems.push(`text ${i} token ${t + 1}: log-prob ${g.logprobs[t]} vs committed ${lp}`);
    });
  });
  if (JSON.stringify(want.greedy) !== JSON.stringify(got.greedy)) problems.push(`greedy tokens ${JSON.stringify(got.greedy.tokens)} vs committed ${JSON.stringify(want.greedy.tokens)}`);
  return { problems, maxDelta };
}

async function main(): Promise<void> {
  const write = process.argv.includes('--write');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-llamacpp-'));
  try {
    const gguf = path.join(dir, 'stories260K.gguf');
    llama2cToGguf(STORIES_BIN, STORIES_TOK, gguf);
    const cpp = await loadLlamaCpp(gguf);
    const got = await computeReference(cpp);
    await cpp.dispose();
    const rel = path.relative(process.cwd(), REFERENCE_FILE);
    if (write) {
      mkdirSync(path.dirname(REFERENCE_FILE), { recursive: true });
      writeFileSync(REFERENCE_FILE, JSON.stringify(got, null, 1) + '\n');
      console.log(`wrote ${rel}`);
      return;
    }
    const { problems, maxDelta } = differences(readReference(), got);
    const n = got.texts.reduce((s, t) => s + t.logprobs.length, 0);
    if (problems.length > 0) {
      for (const p of problems) console.error(`crosscheck:llamacpp: ${p}`);
      console.error(`llama.cpp ${got.generator.version} differs from ${rel} (npm run crosscheck:llamacpp -- --write rewrites it)`);
      process.exitCode = 1;
      return;
    }
    console.log(`llama.cpp ${got.generator.version} agrees with ${rel}: ${got.texts.length} texts, ${n} log-probabilities (max |Δ| ${maxDelta.toExponential(1)}), ${got.greedy.tokens.length} greedy tokens`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`crosscheck:llamacpp: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
