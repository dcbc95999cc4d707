import { isLetteredLabel } from './templates';

/** One place in an answer where an option's label (or, for text matching, its text) occurs. */
export interface Hit {
  index: number;
  start: number;
  end: number;
}

/**
 * Winogender's labels are pronouns and its blanks are nominative, accusative or possessive ("_ could pay",
 * "paid _", "_ shift"), so a model asked for "they, he or she" often answers in the blank's case ("his"). The case
 * forms count as the pronoun they inflect. "her" is she either way. Applied only to labels that are exactly
 * "they", "he" or "she".
 */
export const PRONOUN_FORMS: Record<string, readonly string[]> = {
  they: ['they', 'them', 'their', 'theirs', 'themselves', 'themself'],
  he: ['he', 'him', 'his', 'himself'],
  she: ['she', 'her', 'hers', 'herself'],
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whole-word occurrences of `word` in the (lower-cased) text: "he" does not match inside "she", "the" or "then". */
export function wholeWordHits(text: string, word: string, index: number): Hit[] {
  if (word === '') return [];
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(word)}(?![\\p{L}\\p{N}_])`, 'gu');
  return [...text.matchAll(re)].map((m) => ({ index, start: m.index, end: m.index + m[0].length }));
}

function substringHits(text: string, needle: string, index: number): Hit[] {
  const hits: Hit[] = [];
  if (needle === '') return hits;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) hits.push({ index, start: at, end: at + needle.length });
  return hits;
}

/**
 * Where the options' labels occur in an answer, earliest first. Both sides are lower-cased (the paper's rule).
 * A lettered label like "(b)" matches as a plain substring, exactly as the authors' `"(b)" in answer.lower()`;
 * a word label (they/he/she) must match a whole word, with the pronoun case forms above — a plain substring test
 * would find "he" in "the" and in "she", which no reading of the paper intends.
 */
export function labelHits(response: string, labels: readonly string[]): Hit[] {
  const text = response.toLowerCase();
  const hits: Hit[] = [];
  labels.forEach((label, index) => {
    const lower = label.trim().toLowerCase();
    if (isLetteredLabel(lower)) {
      hits.push(...substringHits(text, lower, index));
      return;
    }
    const forms = PRONOUN_FORMS[lower] ?? [lower];
    for (const form of forms) hits.push(...wholeWordHits(text, form, index));
  });
  return hits.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** Whole-word occurrences of the option texts, minus those lying inside a longer match of another option. */
export function optionTextHits(response: string, choices: readonly string[]): Hit[] {
  const text = response.toLowerCase();
  const hits = choices.flatMap((c, index) => wholeWordHits(text, c.trim().toLowerCase().replace(/[.!?]+$/, '').trim(), index));
  return hits
    .filter((h) => !hits.some((o) => o.index !== h.index && o.start <= h.start && o.end >= h.end && o.end - o.start > h.end - h.start))
    .sort((a, b) => a.start - b.start);
}

/** The distinct option indices among hits, in order of first occurrence. */
export function distinctIndices(hits: readonly Hit[]): number[] {
  const seen: number[] = [];
  for (const h of hits) if (!seen.includes(h.index)) seen.push(h.index);
  return seen;
}
