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
