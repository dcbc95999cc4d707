// Hidden-state capture during a forward pass: which module outputs to keep, at which positions, in which convention.
//
// Convention of the residual stream (nLayers + 1 entries, each the activation at the chosen position(s)):
//   'sclab' (ours): [embeddings, after layer 1, …, after layer L], all un-normed — the raw residual stream.
//   'hf': Hugging Face `output_hidden_states`: the same entries, except that the last one has the model's final
//         RMSNorm applied (what the LM head reads). Entries 0 … L-1 are identical in both conventions.
// The attention output (after wo, before the residual add) and the MLP output (after w2, before the residual add)
// have nLayers entries each: index l-1 holds layer l. The convention does not affect them.
// Positions: 'last' = the last token of the forward call, 'mean' = the mean over its tokens except the positions in
// `meanSkip` (the special tokens: BOS's hidden state is 10–100× larger than the others in the middle layers of
// Llama/Mistral and would dominate the mean), 'all' = every token ([nTokens, dim] row-major). For 'hf' + 'mean' the
// final norm is applied per token before averaging, as averaging HF's hidden_states[-1] would do.

export type HiddenModule = 'residual' | 'attn' | 'mlp';
export type HiddenPosition = 'last' | 'mean' | 'all';
export type HiddenConvention = 'sclab' | 'hf';
export const HIDDEN_MODULES: readonly HiddenModule[] = ['residual', 'attn', 'mlp'];
export const HIDDEN_POSITIONS: readonly HiddenPosition[] = ['last', 'mean', 'all'];
export const HIDDEN_CONVENTIONS: readonly HiddenConvention[] = ['sclab', 'hf'];

export interface CaptureOptions {
  position: HiddenPosition;
  modules: readonly HiddenModule[];
  convention: HiddenConvention;
  /** positions left out of 'mean' (the engine host fills in the special-token positions); all of them skipped → BOS-inclusive mean */
  meanSkip?: readonly number[];
}

export interface HiddenStates {
  position: HiddenPosition;
  convention: HiddenConvention;
  dim: number;
  /** tokens in the forward call the states come from */
  nTokens: number;
  /** nLayers + 1 entries: [0] embeddings, [l] after layer l; each [dim], or [nTokens * dim] for 'all' */
  residual?: Float32Array[];
  /** nLayers entries: [l - 1] = attention output of layer l */
  attn?: Float32Array[];
  /** nLayers entries: [l - 1] = MLP output of layer l */
  mlp?: Float32Array[];
  /** positions of special tokens (BOS, template markers): left out of 'mean' */
  specialPositions?: number[];
}

/** Accumulates captured rows chunk by chunk; rows arrive in order with their global index. */
export class Capture {
  private readonly stores = new Map<HiddenModule, Array<Float32Array | Float64Array>>();
  /** per position: whether it counts in 'mean' */
  private readonly inMean: Uint8Array;
  private readonly meanCount: number;

  constructor(
    readonly opts: CaptureOptions,
    private readonly nTokens: number,
    private readonly dim: number,
    nLayers: number,
  ) {
    const width = opts.position === 'all' ? nTokens * dim : dim;
    this.inMean = new Uint8Array(nTokens).fill(1);
    for (const p of opts.meanSkip ?? []) if (p >= 0 && p < nTokens) this.inMean[p] = 0;
    let count = this.inMean.reduce((a, b) => a + b, 0);
    // a text of special tokens only still has a mean: over all of them
    if (count === 0) count = this.inMean.fill(1).length;
    this.meanCount = count;
    for (const m of new Set(opts.modules)) {
      const n = m === 'residual' ? nLayers + 1 : nLayers;
      // sums for 'mean' in float64 so long prompts lose nothing to rounding
      this.stores.set(m, Array.from({ length: n }, () => (opts.position === 'mean' ? new Float64Array(width) : new Float32Array(width))));
    }
  }

  wants(module: HiddenModule): boolean {
    return this.stores.has(module);
  }

  /** src holds `rows` rows of width dim for global tokens firstRow … firstRow+rows-1 */
  add(module: HiddenModule, index: number, src: Float32Array, firstRow: number, rows: number): void {
    const dst = this.stores.get(module)?.[index];
    if (!dst) return;
    const dim = this.dim;
    switch (this.opts.position) {
      case 'last': {
        const r = this.nTokens - 1 - firstRow;
        if (r >= 0 && r < rows) for (let i = 0; i < dim; i++) dst[i] = src[r * dim + i]!;
        break;
      }
      case 'mean':
        for (let r = 0; r < rows; r++) {
          if (!this.inMean[firstRow + r]) continue;
          for (let i = 0; i < dim; i++) dst[i] = dst[i]! + src[r * dim + i]!;
        }
        break;
      case 'all':
        for (let j = 0; j < rows * dim; j++) dst[firstRow * dim + j] = src[j]!;
        break;
    }
  }

  finish(): HiddenStates {
    const out: HiddenStates = { position: this.opts.position, convention: this.opts.convention, dim: this.dim, nTokens: this.nTokens };
    for (const [m, arrays] of this.stores) {
      out[m] = arrays.map((a) => (a instanceof Float64Array ? Float32Array.from(a, (v) => v / this.meanCount) : a));
    }
    return out;
  }
}
