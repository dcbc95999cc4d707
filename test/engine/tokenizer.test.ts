import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseLlama2cTokenizer } from '../../src/core/engine/llama2c-tokenizer';
import { SclabError } from '../../src/core/model/errors';
import { BOS, TOK } from './fixtures';

const tok = parseLlama2cTokenizer(readFileSync(TOK), 512, TOK);

// Ids from a C transcription of llama2.c run.c's bpe_encode (bsearch lookup, dummy prefix, byte fallback, greedy
// merge), compiled and run on tok512.bin.
const KNOWN: Array<[string, number[]]> = [
  ['Once upon a time, there was a little girl named Lily.', [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426]],
  ['Hello world', [346, 306, 414, 263, 304, 341]],
  ['héllo 🙂 naïve', [270, 485, 306, 414, 410, 243, 162, 156, 133, 297, 412, 198, 178, 360]],
  ['line1\nline2', [278, 271, 411, 475, 13, 421, 271, 411, 479]],
  ['  two  spaces ', [410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419, 410]],
  ['A', [410, 447]],
  ['', []],
  ['The quick brown fox jumps over the lazy dog!', [291, 410, 456, 425, 417, 340, 268, 420, 327, 416, 272, 414, 444, 410, 449, 425, 423, 427, 419, 334, 330, 265, 278, 412, 451, 422, 400, 428, 443]],
];

describe('llama2.c tokenizer', () => {
  it.each(KNOWN)('encodes %j like run.c', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });

  it('falls back to byte pieces <0xNN> = byte + 3 for characters outside the vocabulary', () => {
    expect(tok.piece(13)).toBe('<0x0A>');
    // U+1F642 is F0 9F 99 82 in UTF-8
    const ids = tok.encode('🙂');
    expect(ids.slice(-4)).toEqual([0xf0 + 3, 0x9f + 3, 0x99 + 3, 0x82 + 3]);
  });

  it.each(KNOWN.map(([t]) => t))('round-trips %j (the dummy-prefix space is stripped after BOS)', (text) => {
    const ids = tok.encode(text);
    expect(tok.decode([BOS, ...ids])).toBe(text);
    expect(tok.decode(ids)).toBe(text === '' ? '' : ` ${text}`);
  });

  it('prints nothing for <unk>, <s>, </s> and keeps a piece’s space when it does not follow BOS', () => {
    expect(tok.decode([0, 1, 2])).toBe('');
    const once = tok.encode('Once')[0]!;
    expect(tok.decode([once])).toBe(' Once');
    expect(tok.decode([BOS, once])).toBe('Once');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([512])).toThrow(SclabError);
  });

  it('rejects a truncated tokenizer file with the file name', () => {
    const buf = readFileSync(TOK);
    expect(() => parseLlama2cTokenizer(buf.subarray(0, 1000), 512, 'tok.bin')).toThrow(/tok\.bin: truncated at piece/);
    expect(() => parseLlama2cTokenizer(buf, 600, 'tok.bin')).toThrow(/tok\.bin/);
  });
});

/** run.c's merge loop, transcribed as it is (rescan every pair after each merge): the reference for the heap. */
function referenceEncode(text: string): number[] {
  const t = tok as unknown as { pieces: string[]; scores: Float32Array; lookup: Map<string, number> };
  if (text === '') return [];
  const tokens: number[] = [];
  const space = t.lookup.get(' ');
  if (space !== undefined) tokens.push(space);
  for (const ch of text) {
    const id = t.lookup.get(ch);
    if (id !== undefined) tokens.push(id);
    else for (const b of new TextEncoder().encode(ch)) tokens.push(b + 3);
  }
  for (;;) {
    let best = -1;
    let bestScore = -1e10;
    let bestId = -1;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const id = t.lookup.get(t.pieces[tokens[i]!]! + t.pieces[tokens[i + 1]!]!);
      if (id !== undefined && t.scores[id]! > bestScore) {
        bestScore = t.scores[id]!;
        best = i;
        bestId = id;
      }
    }
    if (best === -1) return tokens;
    tokens.splice(best, 2, bestId);
  }
}

describe('llama2.c tokenizer merge order (priority queue)', () => {
  it('gives the same ids as run.c\'s rescanning loop on 300 seeded random texts, ties and repeats included', () => {
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const alphabet = ['a', 'e', 'o', 'th', 'he', ' ', '  ', 'Lily', 'was', '.', '\n', 'é', '🙂', 'aaaa', 'ing', 'x', 'Q', 'the '];
    for (let k = 0; k < 300; k++) {
      let text = '';
      const len = 1 + Math.floor(rnd() * 60);
      for (let j = 0; j < len; j++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(tok.encode(text), JSON.stringify(text)).toEqual(referenceEncode(text));
    }
  });

  it('long repetitive input (the worst case for the old loop) still matches the reference', () => {
    const text = 'aaaa bbbb the the the Once upon a time '.repeat(60);
    expect(tok.encode(text)).toEqual(referenceEncode(text));
  });
});
