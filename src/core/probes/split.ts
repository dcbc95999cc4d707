// Choosing the training and held-out rows: seeded, stratified by class, with class balancing. Pure and
// deterministic: the same labels, seed and options always give the same split.

export type Balance = 'downsample' | 'weight' | 'none';

export interface SplitOptions {
  seed: number;
  /** share of each class held out for evaluation, 0…1 (rounded per class) */
  heldOutFraction: number;
  /** downsample: the larger class is cut (at random) to the smaller one's size; weight: train rows are weighted
   * n/(2·n_class); none: as the data comes */
  balance: Balance;
  /** at most this many rows in all, taken before splitting (per class: half each when downsampling, else in the
   * data's class proportions) */
  limit?: number;
}

export interface Split {
  /** indices into the labels, train then held out; ascending within each */
  train: number[];
  heldOut: number[];
  /** one per train row: 1, or the balancing weight */
  trainWeights: number[];
}

import { seededRandom, shuffle } from '../util/random';

export { seededRandom, shuffle };


export function splitStratified(labels: ArrayLike<number>, opts: SplitOptions): Split {
  const rand = seededRandom(opts.seed);
  const byClass: [number[], number[]] = [[], []];
  for (let i = 0; i < labels.length; i++) byClass[labels[i] === 1 ? 1 : 0].push(i);
  let [neg, pos] = byClass.map((c) => shuffle(c, rand)) as [number[], number[]];
  if (opts.balance === 'downsample') {
    const k = Math.min(neg.length, pos.length);
    neg = neg.slice(0, k);
    pos = pos.slice(0, k);
  }
  if (opts.limit !== undefined && opts.limit < neg.length + pos.length) {
    const total = neg.length + pos.length;
    const nPos = opts.balance === 'downsample' ? Math.floor(opts.limit / 2) : Math.round((opts.limit * pos.length) / total);
    const nNeg = opts.balance === 'downsample' ? Math.floor(opts.limit / 2) : opts.limit - nPos;
    pos = pos.slice(0, nPos);
    neg = neg.slice(0, nNeg);
  }
  const hold = (c: number[]): number => Math.round(opts.heldOutFraction * c.length);
  const heldOut = [...neg.slice(0, hold(neg)), ...pos.slice(0, hold(pos))].sort((a, b) => a - b);
  const trainNeg = neg.slice(hold(neg));
  const trainPos = pos.slice(hold(pos));
  const train = [...trainNeg, ...trainPos].sort((a, b) => a - b);
  const nTrain = train.length;
  const weightOf = (i: number): number => {
    if (opts.balance !== 'weight') return 1;
    const nc = labels[i] === 1 ? trainPos.length : trainNeg.length;
    return nTrain / (2 * nc);
  };
  return { train, heldOut, trainWeights: train.map(weightOf) };
}
