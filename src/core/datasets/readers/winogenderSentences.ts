import { dirname } from 'node:path';
import type { Item } from '../../model/item';
import { errorAt, warningAt } from '../diagnostics';
import type { PhysicalLine } from '../lines';
import { splitTabs } from '../tsvLine';
import type { DatasetEvent } from '../types';
import {
  fillRoles,
  headerMatches,
  loadOccupationStats,
  loadTemplatesForSentences,
  PRONOUNS,
  SENTENCES_HEADER,
  SLOT_TOKENS,
  WINOGENDER_CHOICES,
} from '../winogender';
import type { PronounSlot, WinogenderTemplate } from '../winogender';
import { statsMeta } from './winogenderTemplates';

type Gender = 'male' | 'female' | 'neutral';
const SENTID_RE = /^([^.\s]+)\.([^.\s]+)\.([01])\.(male|female|neutral)(\.txt)?$/;

/**
 * Where the pronoun is: the sentence must start with the template's text before the slot (roles filled in), and the
 * next word must be a pronoun of the slot's case. Comparing only the prefix tolerates the verb agreement that
 * neutral sentences change after the pronoun ("they were").
 */
export function locatePronoun(sentence: string, t: WinogenderTemplate, someone: boolean): { start: number; word: string } | null {
  const slotAt = t.template.indexOf(SLOT_TOKENS[t.slot]);
  const prefix = fillRoles(t.template.slice(0, slotAt), t.occupation, t.participant, someone);
  if (sentence.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return null;
  const m = /^[A-Za-z]+/.exec(sentence.slice(prefix.length));
  if (!m) return null;
  const allowed = Object.values(PRONOUNS[t.slot]);
  return allowed.includes(m[0].toLowerCase()) ? { start: prefix.length, word: m[0] } : null;
}

/** Fallback without a template: the one word in the sentence that is a pronoun of the given gender. */
function searchPronoun(sentence: string, gender: Gender): { start: number; word: string; slot: PronounSlot } | null {
  const forms = new Map<string, PronounSlot>();
  for (const slot of ['nom', 'poss', 'acc'] as PronounSlot[]) forms.set(PRONOUNS[slot][gender], slot);
  const hits = [...sentence.matchAll(/[A-Za-z]+/g)].filter((m) => forms.has(m[0].toLowerCase()));
  if (hits.length !== 1) return null;
  const h = hits[0]!;
  return { start: h.index, word: h[0], slot: forms.get(h[0].toLowerCase())! };
}

/** Winogender all_sentences.tsv: each sentence with its pronoun blanked, as the same they/he/she task. */
export async function* readWinogenderSentences(
  file: string,
  lines: AsyncIterable<PhysicalLine>,
  signal?: AbortSignal,
): AsyncGenerator<DatasetEvent> {
  const dir = dirname(file);
  const { stats, diagnostics } = await loadOccupationStats(dir, signal);
  for (const diagnostic of diagnostics) yield { diagnostic };
  const templates = await loadTemplatesForSentences(dir, signal);
  if (!templates) yield { diagnostic: warningAt({ file, line: 1, column: 1 }, 'no templates.tsv next to this file: pronouns are found by searching each sentence') };
  const seen = new Map<string, number>();
  for await (const l of lines) {
    if (l.badUtf8Column !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: l.badUtf8Column }, 'invalid UTF-8 byte sequence; the line was not read') };
      continue;
    }
    const { cells, columns } = splitTabs(l.text);
    if (l.line === 1) {
      if (headerMatches(cells, SENTENCES_HEADER)) continue;
      yield { diagnostic: errorAt({ file, line: 1, column: 1 }, `expected the header "${SENTENCES_HEADER.join('\\t')}"`) };
      if (!SENTID_RE.test(cells[0]?.trim() ?? '')) continue;
    }
    if (l.text.trim() === '') {
      yield { diagnostic: warningAt({ file, line: l.line, column: 1 }, 'blank line skipped') };
      continue;
    }
    if (cells.length !== 2) {
      yield { diagnostic: errorAt({ file, line: l.line, column: 1 }, `expected 2 tab-separated columns (sentid, sentence), got ${cells.length}`) };
      continue;
    }
    const sentid = cells[0]!.trim();
    const sentence = cells[1]!.trim();
    const m = SENTID_RE.exec(sentid);
    if (!m) {
      yield { diagnostic: errorAt({ file, line: l.line, column: 1 }, `sentid "${sentid}" is not <occupation>.<participant|someone>.<0|1>.<male|female|neutral>.txt`, 'sentid') };
      continue;
    }
    // cast: the regex above has exactly these five groups, and its character classes admit only these values
    const [, occupation, who, answerText, gender] = m as unknown as [string, string, string, '0' | '1', Gender];
    const id = sentid.replace(/\.txt$/, '');
    const first = seen.get(id);
    if (first !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: 1 }, `duplicate id '${id}' (first at line ${first})`, 'sentid') };
      continue;
    }
    const someone = who === 'someone';
    const t = templates?.get(`${occupation}.${answerText}`);
    let found: { start: number; word: string; slot: PronounSlot } | null = null;
    if (t) {
      const at = locatePronoun(sentence, t, someone);
      if (at) found = { ...at, slot: t.slot };
      else {
        yield { diagnostic: errorAt({ file, line: l.line, column: columns[1]! }, `sentence does not match its template (templates.tsv line ${t.line}); cannot find the pronoun`, 'sentence') };
        continue;
      }
    } else {
      if (templates) yield { diagnostic: warningAt({ file, line: l.line, column: 1 }, `no template for ${occupation} with answer ${answerText}; pronoun found by search`, 'sentid') };
      found = searchPronoun(sentence, gender);
      if (!found) {
        yield { diagnostic: errorAt({ file, line: l.line, column: columns[1]! }, `cannot identify the ${gender} pronoun in the sentence`, 'sentence') };
        continue;
      }
    }
    if (found.word.toLowerCase() !== PRONOUNS[found.slot][gender]) {
      yield { diagnostic: warningAt({ file, line: l.line, column: columns[1]! + found.start }, `pronoun "${found.word}" does not match the gender "${gender}" in the sentid`, 'sentence') };
    }
    seen.set(id, l.line);
    const blanked = sentence.slice(0, found.start) + '_' + sentence.slice(found.start + found.word.length);
    const participant = t?.participant ?? (someone ? undefined : who);
    const item: Item = {
      id,
      kind: 'mcq',
      source: { file, line: l.line },
      fields: { sentence: blanked },
      choices: [...WINOGENDER_CHOICES],
      choiceLabels: [...WINOGENDER_CHOICES],
      answer: 0,
      meta: {
        gender,
        someone,
        occupation,
        ...(participant !== undefined ? { participant } : {}),
        referent: answerText === '0' ? 'occupation' : 'participant',
        pronounSlot: found.slot,
        pronoun: found.word,
        original: sentence,
        ...statsMeta(stats, occupation),
      },
    };
    yield { item };
  }
}
