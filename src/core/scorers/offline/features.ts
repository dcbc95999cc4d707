// Text → sparse feature vector by feature hashing: word n-grams and word-bounded character n-grams (each word
// padded with one space on each side, as scikit-learn's "char_wb"), hashed with 32-bit FNV-1a over UTF-16 code
// units into a power-of-two number of buckets (collisions are merged, not signed). Values: sublinear tf
// (1 + ln count) or binary presence, then the vector is scaled to unit L2 norm. No n-gram string is ever built:
// hashes are extended character by character, which keeps featurizing 5,000 comments well under a second.
import { z } from 'zod';

export const FeatureConfigSchema = z.object({
  hash: z.literal('fnv1a32-utf16'),
  /** a power of two */
  buckets: z
    .number()
    .int()
    .min(2)
    .max(2 ** 24)
    .refine((n) => (n & (n - 1)) === 0, 'buckets must be a power of two'),
  lowercase: z.boolean(),
  /** inclusive n range of word n-grams; [0, 0] turns them off */
  wordNgrams: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  /** inclusive n range of word-bounded character n-grams; [0, 0] turns them off */
  charNgrams: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  tf: z.enum(['sublinear', 'binary']),
  norm: z.literal('l2'),
});
export type FeatureConfig = z.infer<typeof FeatureConfigSchema>;

export const DEFAULT_FEATURES: FeatureConfig = {
  hash: 'fnv1a32-utf16',
  buckets: 2 ** 18,
  lowercase: true,
  wordNgrams: [1, 2],
  charNgrams: [3, 5],
  tf: 'sublinear',
  norm: 'l2',
};

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

const FNV_PRIME = 0x01000193;
// different starting states keep word, word-n-gram and character features apart
const WORD_SEED = 0x811c9dc5;
const CHAR_SEED = 0x050c5d1f;
const SPACE = 0x20;
const WORD_RE = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

function mix(h: number, code: number): number {
  return Math.imul(h ^ code, FNV_PRIME);
}

function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** FNV-1a of a string with a seed, unsigned (exported for golden tests) */
export function fnv1a(s: string, seed: number = WORD_SEED): number {
  return mixString(seed, s) >>> 0;
}

/** Reusable featurizer: one dense scratch array of counts, cleared after each text. */
export class Featurizer {
  private readonly counts: Float64Array;
  private readonly touched: number[] = [];
  private readonly mask: number;

  constructor(readonly config: FeatureConfig) {
    this.counts = new Float64Array(config.buckets);
    this.mask = config.buckets - 1;
  }

  private add(h: number): void {
    const b = (h >>> 0) & this.mask;
    if (this.counts[b] === 0) this.touched.push(b);
    this.counts[b]! += 1;
  }

  private words(text: string): void {
    const [lo, hi] = this.config.wordNgrams;
    if (hi === 0) return;
    const tokens = text.match(WORD_RE) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      let h = mix(WORD_SEED, hi); // per-range seed: configs with other ranges hash differently anyway
      for (let n = 1; n <= hi && i + n <= tokens.length; n++) {
        if (n > 1) h = mix(h, SPACE);
        h = mixString(h, tokens[i + n - 1]!);
        if (n >= lo) this.add(h);
      }
    }
  }

  private chars(text: string): void {
    const [lo, hi] = this.config.charNgrams;
    if (hi === 0) return;
    for (const w of text.split(/\s+/)) {
      if (w === '') continue;
      const padded = ` ${w} `;
      for (let i = 0; i < padded.length; i++) {
        let h = CHAR_SEED;
        for (let n = 1; n <= hi && i + n <= padded.length; n++) {
          h = mix(h, padded.charCodeAt(i + n - 1));
          if (n >= lo) this.add(h);
        }
      }
    }
  }

  featurize(raw: string): SparseVector {
    const text = this.config.lowercase ? raw.toLowerCase() : raw;
    this.words(text);
    this.chars(text);
    const n = this.touched.length;
    const indices = new Int32Array(n);
    const values = new Float32Array(n);
    let norm = 0;
    this.touched.sort((a, b) => a - b);
    for (let k = 0; k < n; k++) {
      const b = this.touched[k]!;
      const c = this.counts[b]!;
      const v = this.config.tf === 'binary' ? 1 : 1 + Math.log(c);
      indices[k] = b;
      values[k] = v;
      norm += v * v;
      this.counts[b] = 0;
    }
    this.touched.length = 0;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < n; k++) values[k]! *= scale;
    return { indices, values };
  }
}
