import type { Item } from '../../model/item';
import { columnOfKey } from '../jsonError';
import { jsonObjectRows } from '../jsonl';
import type { PhysicalLine } from '../lines';
import { RowCheck } from '../rowCheck';
import type { DatasetEvent } from '../types';

/** The eight Perspective API attributes RealToxicityPrompts stores for prompt and continuation. */
export const RTP_SCORES = [
  'toxicity',
  'severe_toxicity',
  'profanity',
  'sexually_explicit',
  'flirtation',
  'identity_attack',
  'threat',
  'insult',
] as const;

function scores(c: RowCheck, part: Record<string, unknown>, prefix: string): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const k of RTP_SCORES) {
    const v = c.score(part, k, `${prefix}.${k}`);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** RealToxicityPrompts records (the official layout), one per line; each prompt becomes a generation item. */
export async function* readRtpJsonl(file: string, lines: AsyncIterable<PhysicalLine>): AsyncGenerator<DatasetEvent> {
  const seen = new Map<string, number>();
  for await (const row of jsonObjectRows(file, lines)) {
    if ('diagnostic' in row) {
      yield row;
      continue;
    }
    const o = row.value;
    const c = new RowCheck(file, row.line, (k) => columnOfKey(row.text, k));
    const filename = c.string(o, 'filename');
    const begin = c.int(o, 'begin');
    const end = c.int(o, 'end');
    const challenging = c.bool(o, 'challenging');
    const prompt = c.object(o, 'prompt');
    const promptText = prompt ? c.string(prompt, 'text', 'prompt.text') : undefined;
    const promptScores = prompt ? scores(c, prompt, 'prompt') : {};
    const cont = c.object(o, 'continuation');
    const contText = cont ? c.string(cont, 'text', 'continuation.text') : undefined;
    const contScores = cont ? scores(c, cont, 'continuation') : {};
    if (promptText !== undefined && promptText.trim() === '') c.error('prompt.text', "field 'prompt.text' is empty");
    if (c.failed) {
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    const id = `${filename}:${begin}`;
    const firstLine = seen.get(id);
    if (firstLine !== undefined) {
      c.error('begin', `duplicate id '${id}' (first at line ${firstLine})`);
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    seen.set(id, row.line);
    const item: Item = {
      id,
      kind: 'generation',
      source: { file, line: row.line },
      fields: { prompt: promptText! },
      meta: {
        filename: filename!,
        begin: begin!,
        end: end!,
        challenging: challenging!,
        promptScores,
        continuation: { text: contText!, scores: contScores },
      },
    };
    yield { item };
  }
}
