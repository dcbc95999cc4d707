// `npm run bench:hostile`: inputs that used to stall the tool, old algorithm against new, in one run.
//   1. tokenizing a long prompt with the llama2.c tokenizer (stories260K's tok512.bin): run.c's rescanning merge
//      loop (quadratic; kept here as the reference) against the priority-queue merge. The old loop runs on
//      shorter prompts only unless --full is given (300,000 characters took it 80 s).
//   2. `sclab validate` of a CSV whose header has 1,000,000 columns (9.9 MB; before: not done after 7 minutes).
// Prints seconds and ratios; timings on a shared machine vary, compare figures from the same run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateDataset } from '../src/core/datasets';
import { parseLlama2cTokenizer, type Llama2cTokenizer } from '../src/core/engine/llama2c-tokenizer';

// the tokenizer the repository carries (test/fixtures), so the bench runs in a clone without ../shared
const TOK = path.resolve(__dirname, '../../test/fixtures/models/stories260K/tok512.bin');
const full = process.argv.includes('--full');

function oldEncode(tok: Llama2cTokenizer, text: string): number[] {
  const t = tok as unknown as { pieces: string[]; scores: Float32Array; lookup: Map<string, number> };
  const tokens: number[] = [];
  const space = t.lookup.get(' ');
  if (space !== undefined) tokens.push(space);
  for (const ch of text) {
    const id = t.lookup.get(ch);
    if (id !== undefined) tokens.push(id);
    else for (const b of new TextEncoder().encode(ch)) tokens.push(b + 3);
  }
  // the loop as it was (pair results cached, but every merge rescans every pair and splices the arrays)
  const pairId: number[] = [];
  const pairScore: number[] = [];
  const evaluate = (i: number): void => {
    const id = t.lookup.get(t.pieces[tokens[i]!]! + t.pieces[tokens[i + 1]!]!);
    pairId[i] = id ?? -1;
    pairScore[i] = id === undefined ? -Infinity : t.scores[id]!;
  };
  for (let i = 0; i + 1 < tokens.length; i++) evaluate(i);
  for (;;) {
    let best = -1;
    let bestScore = -1e10;
    for (let i = 0; i + 1 < tokens.length; i++) {
      if (pairId[i]! !== -1 && pairScore[i]! > bestScore) {
        bestScore = pairScore[i]!;
        best = i;
      }
    }
    if (best === -1) return tokens;
    tokens[best] = pairId[best]!;
    tokens.splice(best + 1, 1);
    pairId.splice(best + 1, 1);
    pairScore.splice(best + 1, 1);
    if (best + 1 < tokens.length) evaluate(best);
    else {
      pairId.length = best;
      pairScore.length = best;
    }
    if (best > 0) evaluate(best - 1);
  }
}

function seconds<T>(f: () => T): { s: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

function tokenizerBench(): void {
  const tok = parseLlama2cTokenizer(readFileSync(TOK), 512, TOK);
  const story = 'Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog. ';
  console.log('1. llama2.c tokenizer, prompt length → seconds (old rescanning loop | priority queue), ratio');
  for (const chars of full ? [10_000, 30_000, 100_000, 300_000] : [10_000, 30_000, 300_000]) {
    const text = story.repeat(Math.ceil(chars / story.length)).slice(0, chars);
    const fresh = seconds(() => tok.encode(text));
    const runOld = full || chars <= 30_000;
    const old = runOld ? seconds(() => oldEncode(tok, text)) : null;
    if (old && JSON.stringify(old.value) !== JSON.stringify(fresh.value)) throw new Error(`ids differ at ${chars} characters`);
    console.log(`   ${String(chars).padStart(7)} chars: ${old ? old.s.toFixed(3) : '(skipped; --full)'} | ${fresh.s.toFixed(3)} s${old ? `   ×${(old.s / fresh.s).toFixed(0)}` : ''}   (${fresh.value.length} tokens)`);
  }
}

async function csvBench(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sclab-bench-csv-'));
  const file = path.join(dir, 'wide.csv');
  writeFileSync(file, `${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')},question\n${'x,'.repeat(1_000_000)}Why?\n`);
  const t0 = process.hrtime.bigint();
  const report = await validateDataset(file);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`2. validate, 1,000,001-column header: ${s.toFixed(2)} s → ${report.diagnostics[0]?.message.slice(0, 70) ?? 'no diagnostic'}`);
  rmSync(dir, { recursive: true, force: true });
}

tokenizerBench();
void csvBench();
