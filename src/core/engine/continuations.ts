// Lines option continuations up with the round input in token space. Tokenizers merge across the boundary between
// the input and an option (SentencePiece spaces, BPE merges), so each option is tokenized together with the input
// and its tokens are those after the longest prefix it shares with the input's own tokens (lm-eval-harness style).
import { SclabError } from '../model/errors';

export interface AlignedContinuations {
  /** tokens every option shares with the input: run once */
  prefixIds: number[];
  /** per option, its tokens after prefixIds */
  continuations: number[][];
  /** per option, how many leading continuation tokens still belong to the input (scored but not the option's) */
  inputTokens: number[];
}

/** contextIds: the input alone; wholeIds[i]: the input followed by option i, tokenized as one text */
export function alignContinuations(contextIds: number[], wholeIds: number[][]): AlignedContinuations {
  const lcps = wholeIds.map((w) => {
    let n = 0;
    while (n < contextIds.length && n < w.length && w[n] === contextIds[n]) n++;
    return n;
  });
  const shared = Math.min(contextIds.length, ...lcps);
  if (shared === 0) throw new SclabError('bad_request', 'an option changes the first token of the input: there is no context to score it after');
  return {
    prefixIds: contextIds.slice(0, shared),
    continuations: wholeIds.map((w) => w.slice(shared)),
    inputTokens: lcps.map((l) => l - shared),
  };
}
