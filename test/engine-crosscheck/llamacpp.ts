// Test-only access to llama.cpp (node-llama-cpp 3.21.1): per-token log-probabilities of a token sequence and greedy
// decoding, one thread (the note in shared/notes/embedded-engine.md: 2 threads collapse on busy 2-core machines).
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';

export interface LlamaCppModel {
  model: LlamaModel;
  context: LlamaContext;
  /** ids of text as llama.cpp tokenizes it (no BOS) */
  tokenize(text: string): number[];
  /**
   * logProbs[t] = log P(tokens[t + 1] | tokens[0..t]) for t < tokens.length - 1, from llama.cpp's next-token
   * probabilities after each token
   */
  logProbs(tokens: number[]): Promise<number[]>;
  /** greedy continuation of `prompt`, n new tokens */
  greedy(prompt: number[], n: number): Promise<number[]>;
  dispose(): Promise<void>;
}

let llamaPromise: Promise<Llama> | undefined;

export async function loadLlamaCpp(ggufPath: string, contextSize = 512): Promise<LlamaCppModel> {
  const { getLlama } = await import('node-llama-cpp');
  llamaPromise ??= getLlama({ gpu: false, logLevel: 'error' as never, build: 'never' });
  const llama = await llamaPromise;
  const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
  // F32 KV cache: the default F16 cache alone costs ~1e-3 in log-probabilities
  const context = await model.createContext({
    contextSize,
    threads: 1,
    batchSize: contextSize,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  const sequence = context.getSequence();
  return {
    model,
    context,
    tokenize: (text) => Array.from(model.tokenize(text, false) as number[]),
    async logProbs(tokens) {
      await sequence.clearHistory();
      const input = tokens.map((t, i) => (i < tokens.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
      const res = await sequence.controlledEvaluate(input as never);
      const out: number[] = [];
      for (let i = 0; i < tokens.length - 1; i++) {
        const p = res[i]?.next.probabilities?.get(tokens[i + 1] as never);
        if (p === undefined) throw new Error(`llama.cpp gave no probability for token ${i + 1}`);
        out.push(Math.log(p));
      }
      return out;
    },
    async greedy(prompt, n) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const tok of sequence.evaluate(prompt as never, { temperature: 0 })) {
        out.push(tok as number);
        if (out.length >= n) break;
      }
      return out;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}
