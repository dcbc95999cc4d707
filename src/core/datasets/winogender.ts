import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Diagnostic } from '../model/item';
import { errorAt, warningAt } from './diagnostics';
import { readLines } from './lines';
import { splitTabs } from './tsvLine';

export const TEMPLATES_HEADER = ['occupation(0)', 'other-participant(1)', 'answer', 'sentence'];
export const SENTENCES_HEADER = ['sentid', 'sentence'];
export const STATS_HEADER = ['occupation', 'bergsma_pct_female', 'bls_pct_female', 'bls_year'];

/** The paper's fill-the-blank task: the unbiased answer "they" first, then "he" and "she". */
export const WINOGENDER_CHOICES = ['they', 'he', 'she'];

export type PronounSlot = 'nom' | 'poss' | 'acc';
export const SLOT_TOKENS: Record<PronounSlot, string> = { nom: '$NOM_PRONOUN', poss: '$POSS_PRONOUN', acc: '$ACC_PRONOUN' };
export const PRONOUNS: Record<PronounSlot, Record<'male' | 'female' | 'neutral', string>> = {
  nom: { male: 'he', female: 'she', neutral: 'they' },
  poss: { male: 'his', female: 'her', neutral: 'their' },
  acc: { male: 'him', female: 'her', neutral: 'them' },
};

export interface OccupationStats {
  pctFemaleBergsma: number;
  pctFemaleBls: number;
  blsYear: number;
}

export interface WinogenderTemplate {
  occupation: string;
  participant: string;
  /** 0 = the pronoun refers to the occupation, 1 = to the other participant */
  answer: 0 | 1;
  template: string;
  slot: PronounSlot;
  line: number;
}

export function headerMatches(cells: string[], expected: string[]): boolean {
  return cells.length === expected.length && cells.every((c, i) => c.trim().toLowerCase() === expected[i]);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** occupations-stats.tsv next to the data file, when present; problems in it become warnings. */
export async function loadOccupationStats(
  dir: string,
  signal?: AbortSignal,
): Promise<{ stats: Map<string, OccupationStats> | null; diagnostics: Diagnostic[] }> {
  const file = join(dir, 'occupations-stats.tsv');
  const diagnostics: Diagnostic[] = [];
  if (!(await isFile(file))) return { stats: null, diagnostics };
  const stats = new Map<string, OccupationStats>();
  for await (const l of readLines(file, { signal })) {
    if (l.text.trim() === '') continue;
    const { cells } = splitTabs(l.text);
    if (l.line === 1) {
      if (!headerMatches(cells, STATS_HEADER)) {
        diagnostics.push(warningAt({ file, line: 1, column: 1 }, `unexpected header; expected ${STATS_HEADER.join(', ')}; occupation statistics not used`));
        return { stats: null, diagnostics };
      }
      continue;
    }
    const [occ, bergsma, bls, year] = cells.map((c) => c.trim());
    const nums = [bergsma, bls, year].map((x) => (x === undefined || x === '' ? NaN : Number(x)));
    if (cells.length !== 4 || !occ || nums.some((n) => !Number.isFinite(n))) {
      diagnostics.push(warningAt({ file, line: l.line, column: 1 }, 'expected occupation and three numbers; row ignored'));
      continue;
    }
    stats.set(occ, { pctFemaleBergsma: nums[0]!, pctFemaleBls: nums[1]!, blsYear: nums[2]! });
  }
  return { stats, diagnostics };
}

/** Parses one templates.tsv data row, or explains why it cannot. */
export function parseTemplateRow(
  file: string,
  line: number,
  text: string,
): { template: WinogenderTemplate } | { diagnostics: Diagnostic[] } {
  const { cells, columns } = splitTabs(text);
  if (cells.length !== 4) {
    return { diagnostics: [errorAt({ file, line, column: 1 }, `expected 4 tab-separated columns (occupation, participant, answer, sentence), got ${cells.length}`)] };
  }
  const [occupation, participant, answerText, template] = cells.map((c) => c.trim()) as [string, string, string, string];
  const out: Diagnostic[] = [];
  if (occupation === '') out.push(errorAt({ file, line, column: columns[0]! }, 'occupation is empty', 'occupation'));
  if (participant === '') out.push(errorAt({ file, line, column: columns[1]! }, 'participant is empty', 'participant'));
  if (answerText !== '0' && answerText !== '1') out.push(errorAt({ file, line, column: columns[2]! }, `answer must be 0 or 1, got "${answerText}"`, 'answer'));
  const slots = (Object.keys(SLOT_TOKENS) as PronounSlot[]).filter((s) => template.includes(SLOT_TOKENS[s]));
  const slotCount = (template.match(/\$(NOM|POSS|ACC)_PRONOUN/g) ?? []).length;
  if (slotCount !== 1 || slots.length !== 1) {
    out.push(errorAt({ file, line, column: columns[3]! }, `sentence must contain exactly one pronoun slot ($NOM_PRONOUN, $POSS_PRONOUN or $ACC_PRONOUN), found ${slotCount}`, 'sentence'));
  }
  if (!template.includes('$OCCUPATION')) out.push(errorAt({ file, line, column: columns[3]! }, 'sentence has no $OCCUPATION', 'sentence'));
  if (out.length > 0) return { diagnostics: out };
  return { template: { occupation, participant, answer: Number(answerText) as 0 | 1, template, slot: slots[0]!, line } };
}

/** Fill occupation and participant; `someone` replaces "the/a $PARTICIPANT" as in all_sentences.tsv. */
export function fillRoles(text: string, occupation: string, participant: string, someone = false): string {
  let s = text.split('$OCCUPATION').join(occupation);
  if (someone) {
    s = s.replace(/\b(the|a|an) \$PARTICIPANT/g, 'someone').replace(/\b(The|A|An) \$PARTICIPANT/g, 'Someone');
    s = s.split('$PARTICIPANT').join('someone');
  } else {
    s = s.split('$PARTICIPANT').join(participant);
  }
  return s;
}

/** templates.tsv of a folder, keyed by "<occupation>.<answer>" (the key all_sentences.tsv ids share). */
export async function loadTemplatesForSentences(
  dir: string,
  signal?: AbortSignal,
): Promise<Map<string, WinogenderTemplate> | null> {
  const file = join(dir, 'templates.tsv');
  if (!(await isFile(file))) return null;
  const out = new Map<string, WinogenderTemplate>();
  for await (const l of readLines(file, { signal })) {
    if (l.line === 1 || l.text.trim() === '') continue;
    const r = parseTemplateRow(file, l.line, l.text);
    if ('template' in r) out.set(`${r.template.occupation}.${r.template.answer}`, r.template);
  }
  return out;
}
