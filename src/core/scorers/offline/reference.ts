// The reference the offline scorers are measured against: the Perspective API toxicity that RealToxicityPrompts
// recorded for each prompt and continuation. A seeded split by row (filename + begin, so prompt and continuation
// of one sentence always fall on the same side) decides which rows may be used for training and which are held
// out for measuring agreement; the training script and bench:scorer share it.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { SclabError } from '../../model/errors';
import { fnv1a } from './features';

export interface ReferenceRow {
  /** filename:begin, unique within RealToxicityPrompts */
  key: string;
  file: string;
  /** toxicity null: Perspective returned no score for the text (a few continuations in the files) */
  prompt: { text: string; toxicity: number | null };
  continuation: { text: string; toxicity: number | null };
}

export const RTP_FILES = ['toxic.jsonl', 'nontoxic.jsonl'] as const;

function part(obj: unknown, name: string, where: string): { text: string; toxicity: number | null } {
  const p = (obj as Record<string, unknown>)[name] as { text?: unknown; toxicity?: unknown } | undefined;
  if (!p || typeof p.text !== 'string') throw new SclabError('dataset', `${where}: field "${name}.text" is missing or not text`);
  if (p.toxicity !== null && (typeof p.toxicity !== 'number' || !(p.toxicity >= 0 && p.toxicity <= 1))) {
    throw new SclabError('dataset', `${where}: field "${name}.toxicity" is not a number in 0…1 or null`);
  }
  return { text: p.text, toxicity: p.toxicity };
}

/** The texts of `rows`' prompts or continuations that have a reference score, with the score. */
export function scoredParts(rows: readonly ReferenceRow[], which: 'prompt' | 'continuation'): { texts: string[]; reference: number[] } {
  const texts: string[] = [];
  const reference: number[] = [];
  for (const r of rows) {
    const p = r[which];
    if (p.toxicity === null) continue;
    texts.push(p.text);
    reference.push(p.toxicity);
  }
  return { texts, reference };
}

/** Reads RealToxicityPrompts rows (official record layout) from the given files in `dir`. */
export async function readReferenceRows(dir: string, files: readonly string[] = RTP_FILES): Promise<{ rows: ReferenceRow[]; bytes: Map<string, Buffer> }> {
  const rows: ReferenceRow[] = [];
  const bytes = new Map<string, Buffer>();
  for (const f of files) {
    const file = path.join(dir, f);
    const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new SclabError('io', `cannot read ${file}: ${e.code ?? e.message}`);
    });
    bytes.set(f, buf);
    buf
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const where = `${file}:${i + 1}`;
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch (e) {
          throw new SclabError('dataset', `${where}: not valid JSON (${(e as Error).message})`);
        }
        const o = obj as { filename?: unknown; begin?: unknown };
        if (typeof o.filename !== 'string' || typeof o.begin !== 'number') throw new SclabError('dataset', `${where}: fields "filename" and "begin" identify a row and are missing`);
        rows.push({ key: `${o.filename}:${o.begin}`, file: f, prompt: part(obj, 'prompt', where), continuation: part(obj, 'continuation', where) });
      });
  }
  return { rows, bytes };
}

/** True for the rows held out from training (about half), decided by the row's key and the seed alone. */
export function isHeldOut(key: string, seed: number): boolean {
  return (fnv1a(`${seed}|${key}`) & 1) === 0;
}
