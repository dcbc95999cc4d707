// llama.cpp (node-llama-cpp 3.21.1) as a reference engine, for `npm run crosscheck:llamacpp` and `npm run bench:engine`.
// It is not a dependency of the project (its prebuilt binaries for every GPU flavour weigh ~700 MB): the first use
// installs it, CPU build only, into the tools cache (scripts/tools/ondemand.mjs) and later uses import it from there.
// One thread (the note in shared/notes/embedded-engine.md: 2 threads collapse on busy 2-core machines), flash
// attention off, F32 KV cache.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installTool } from '../../scripts/tools/ondemand.mjs';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** node-llama-cpp's prebuilt package for this machine's CPU (its GPU flavours are not needed: we run on the CPU) */
function binaryPackage(): string {
  const arch = process.arch === 'arm' ? 'armv7l' : process.arch;
  if (process.platform === 'darwin') return arch === 'arm64' ? 'mac-arm64-metal' : `mac-${arch}`;
  if (process.platform === 'win32') return `win-${arch}`;
  return `linux-${arch}`;
}

/** Installs node-llama-cpp into the tools cache once and returns its folder. */
export function installNodeLlamaCpp(): string {
  const pkgs = [`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, `@node-llama-cpp/${binaryPackage()}@${NODE_LLAMA_CPP_VERSION}`];
  // --omit=optional skips the GPU builds; --ignore-scripts: the prebuilt binary is used as is (getLlama build: 'never')
  return installTool(`node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`, pkgs, ['--ignore-scripts', '--omit=optional']);
}

// The few parts of node-llama-cpp's API used here, typed locally so that the project typechecks without it.
interface Llama {
  loadModel(o: { modelPath: string; gpuLayers: number }): Promise<LlamaModel>;
}
interface LlamaModel {
  tokenize(text: string, specialTokens: boolean): readonly number[];
  createContext(o: Record<string, unknown>): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
interface LlamaSequence {
  readonly nextTokenIndex: number;
  compareContextTokens(tokens: number[]): { firstDifferentIndex: number };
  eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>): Promise<void>;
  clearHistory(): Promise<void>;
  controlledEvaluate(input: unknown[]): Promise<Array<{ next: { probabilities?: Map<number, number> } } | undefined>>;
  evaluate(tokens: number[], o: { temperature: number }): AsyncIterable<number>;
}
interface NodeLlamaCpp {
  getLlama(o: { gpu: false; logLevel: string; build: 'never' }): Promise<Llama>;
}

let llamaPromise: Promise<Llama> | undefined;

async function llama(): Promise<Llama> {
  llamaPromise ??= (async () => {
    const dir = installNodeLlamaCpp();
    const entry = createRequire(path.join(dir, 'package.json')).resolve('node-llama-cpp');
    // node-llama-cpp is an ES module; esbuild leaves an import() of a computed URL as it is
    const { getLlama } = (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
    return getLlama({ gpu: false, logLevel: 'error', build: 'never' });
  })();
  return llamaPromise;
}

export interface LlamaCppModel {
  /** ids of text as llama.cpp tokenizes it (no BOS) */
  tokenize(text: string): number[];
  /**
   * logProbs[t] = log P(tokens[t + 1] | tokens[0..t]) for t < tokens.length - 1, from llama.cpp's next-token
   * probabilities after each token
   */
  logProbs(tokens: number[]): Promise<number[]>;
  /** greedy continuation of `prompt`, n new tokens; onToken(i) runs as token i arrives (for timing) */
  greedy(prompt: number[], n: number, onToken?: (i: number) => void): Promise<number[]>;
  /**
   * Greedy continuation of `prompt` with prompt caching as llama.cpp's server does it: the tokens the sequence
   * already holds are kept up to the first that differs, and only the rest of the prompt is evaluated. Stops after
   * n tokens or at one of `stopIds` (not returned). `evaluated`: prompt tokens that went through a forward pass.
   */
  greedyCached(prompt: number[], n: number, stopIds: ReadonlySet<number>): Promise<{ tokens: number[]; evaluated: number }>;
  dispose(): Promise<void>;
}

/** Loads a GGUF in llama.cpp on the CPU with one thread (or `threads`), installing node-llama-cpp first when missing. */
export async function loadLlamaCpp(ggufPath: string, contextSize = 512, threads = 1): Promise<LlamaCppModel> {
  const model = await (await llama()).loadModel({ modelPath: ggufPath, gpuLayers: 0 });
  // F32 KV cache: the default F16 cache alone costs ~1e-3 in log-probabilities
  const context = await model.createContext({
    contextSize,
    threads,
    batchSize: contextSize,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  const sequence = context.getSequence();
  return {
    tokenize: (text) => Array.from(model.tokenize(text, false)),
    async logProbs(tokens) {
      await sequence.clearHistory();
      const input = tokens.map((t, i) => (i < tokens.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
      const res = await sequence.controlledEvaluate(input);
      const out: number[] = [];
      for (let i = 0; i < tokens.length - 1; i++) {
        const p = res[i]?.next.probabilities?.get(tokens[i + 1]!);
        if (p === undefined) throw new Error(`llama.cpp gave no probability for token ${i + 1}`);
        out.push(Math.log(p));
      }
      return out;
    },
    async greedy(prompt, n, onToken) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const tok of sequence.evaluate(prompt, { temperature: 0 })) {
        onToken?.(out.length);
        out.push(tok);
        if (out.length >= n) break;
      }
      return out;
    },
    async greedyCached(prompt, n, stopIds) {
      // at least the last prompt token is evaluated again: its logits give the first new token
      const keep = Math.min(sequence.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
      if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
      const out: number[] = [];
      if (n > 0) {
        for await (const tok of sequence.evaluate(prompt.slice(keep), { temperature: 0 })) {
          if (stopIds.has(tok)) break;
          out.push(tok);
          if (out.length >= n) break;
        }
      }
      return { tokens: out, evaluated: prompt.length - keep };
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
