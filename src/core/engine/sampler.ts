// Next-token choice: greedy argmax at temperature 0, otherwise temperature + nucleus (top-p) sampling from a seeded
// PRNG, so a sampled generation repeats exactly for the same seed.
import { softmax } from './kernels';
import { argmax } from './ops';
import { seededRandom } from '../util/random';

/** the seeded PRNG behind sampling (mulberry32) */
export const mulberry32 = seededRandom;

export class Sampler {
  private readonly probs: Float32Array;
  private readonly order: Int32Array;
  private readonly random: () => number;

  constructor(
    private readonly vocabSize: number,
    private readonly temperature: number,
    private readonly topP: number,
    seed: number,
  ) {
    this.probs = new Float32Array(vocabSize);
    this.order = new Int32Array(vocabSize);
    this.random = mulberry32(seed);
  }

  /** picks the next token from logits[offset, offset + vocabSize) (not modified) */
  sample(logits: Float32Array, offset: number): number {
    const n = this.vocabSize;
    if (this.temperature === 0) return argmax(logits, offset, n);
    const p = this.probs;
    for (let i = 0; i < n; i++) p[i] = logits[offset + i]! / this.temperature;
    softmax(p, 0, n);
    return this.topP > 0 && this.topP < 1 ? this.nucleus() : this.fromAll();
  }

  private fromAll(): number {
    const r = this.random();
    let cdf = 0;
    for (let i = 0; i < this.vocabSize; i++) {
      cdf += this.probs[i]!;
      if (r < cdf) return i;
    }
    return this.vocabSize - 1; // rounding
  }

  /** samples among the most likely tokens whose cumulative probability first exceeds topP (as run.c does) */
  private nucleus(): number {
    const n = this.vocabSize;
    const p = this.probs;
    // tokens below (1 - topP) / (n - 1) can never be in the nucleus: skip them before sorting
    const cutoff = (1 - this.topP) / (n - 1);
    let m = 0;
    for (let i = 0; i < n; i++) if (p[i]! >= cutoff) this.order[m++] = i;
    const cand = this.order.subarray(0, m).sort((a, b) => p[b]! - p[a]! || a - b);
    let cum = 0;
    let last = m - 1;
    for (let i = 0; i < m; i++) {
      cum += p[cand[i]!]!;
      if (cum > this.topP) {
        last = i;
        break;
      }
    }
    const r = this.random() * cum;
    let cdf = 0;
    for (let i = 0; i <= last; i++) {
      cdf += p[cand[i]!]!;
      if (r < cdf) return cand[i]!;
    }
    return cand[last]!;
  }
}
