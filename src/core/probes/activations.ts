// Last-token hidden states of raw texts from the embedded engine, for probe training.
//
// Input rule: each text is read as the model reads plain text — BOS (when the model uses one) then the text's
// tokens, no chat template (as the paper's probes were trained on raw comments) — and cut to its FIRST maxTokens
// tokens (BOS included; the usual right-side truncation of tokenizers), never more than the model's context. The
// state is read at the last kept token, in the 'sclab' convention (every entry un-normed), which is what a run
// reads by default.
import type { HiddenModule } from '../backends/backend';
import type { EngineClient } from '../engine/client';
import { cancelledError, SclabError } from '../model/errors';
import type { ProbeModel } from './schema';

export interface ModelShape {
  identity: ProbeModel;
  nLayers: number;
  dModel: number;
  /** the model's context in tokens */
  maxSeqLen: number;
}

export interface CollectedStates {
  /** the layers collected, in order */
  layers: number[];
  /** per layer (same order): one vector per text */
  byLayer: Float32Array[][];
  /** texts that were cut to maxTokens */
  truncated: number;
  /** tokens run through the model */
  tokens: number;
}

export async function modelShape(client: EngineClient): Promise<ModelShape> {
  const info = await client.info();
  return { identity: info.identity, nLayers: info.config.nLayers, dModel: info.config.dim, maxSeqLen: info.config.maxSeqLen };
}

/** `engines`: one client, or several started on the same model (worker threads) that share the texts. */
export async function collectLastTokenStates(
  engines: EngineClient | readonly EngineClient[],
  texts: string[],
  opts: { module: HiddenModule; layers: number[]; maxTokens: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<CollectedStates> {
  const clients = Array.isArray(engines) ? (engines as readonly EngineClient[]) : [engines as EngineClient];
  const client = clients[0]!;
  const shape = await modelShape(client);
  const lo = opts.module === 'residual' ? 0 : 1;
  for (const l of opts.layers) {
    if (!Number.isInteger(l) || l < lo || l > shape.nLayers) throw new SclabError('config', `layer ${l} does not exist for module ${opts.module}: choose ${lo}…${shape.nLayers}`);
  }
  const maxTokens = Math.min(opts.maxTokens, shape.maxSeqLen);
  const byLayer: Float32Array[][] = opts.layers.map(() => []);
  let truncated = 0;
  let tokens = 0;
  const BATCH = 64; // tokenize several texts per engine request
  for (let start = 0; start < texts.length; start += BATCH) {
    if (opts.signal?.aborted) throw cancelledError();
    const batch = texts.slice(start, start + BATCH);
    const ids = await client.tokenize(batch, undefined, { signal: opts.signal });
    const seqs = ids.map((seq, k) => {
      if (seq.length === 0) throw new SclabError('dataset', `text ${start + k + 1} is empty after tokenization and the model has no BOS token`);
      if (seq.length <= maxTokens) return seq;
      truncated++;
      return seq.slice(0, maxTokens);
    });
    // each client queues its own requests; results keep the texts' order
    const states = await Promise.all(seqs.map((seq, k) => clients[k % clients.length]!.hidden(seq, { position: 'last', modules: [opts.module], convention: 'sclab' }, { signal: opts.signal })));
    states.forEach((h, k) => {
      tokens += seqs[k]!.length;
      const all = h[opts.module]!;
      opts.layers.forEach((l, i) => byLayer[i]!.push(all[l - lo]!));
    });
    opts.onProgress?.(Math.min(start + BATCH, texts.length), texts.length);
  }
  return { layers: opts.layers, byLayer, truncated, tokens };
}
