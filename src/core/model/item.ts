import { z } from 'zod';

/**
 * One dataset row, normalised. `fields` are the template slots ({context}, {question}, {prompt}, {sentence}, …);
 * `choices` and `answer` make it a multiple-choice item, otherwise it is a generation item.
 */
export const ItemSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(['mcq', 'generation']),
  /** where the row came from, so hosts can reveal it; line is 1-based */
  source: z.object({ file: z.string(), line: z.number().int().positive() }),
  fields: z.record(z.string(), z.string()),
  /** option texts, in dataset order */
  choices: z.array(z.string()).optional(),
  /**
   * the labels the model is asked to answer with, one per choice: "(a)", "(b)", … for lettered options, or the
   * words themselves (Winogender's "they"/"he"/"she")
   */
  choiceLabels: z.array(z.string()).optional(),
  /** gold choice index */
  answer: z.number().int().nonnegative().optional(),
  /** everything else the dataset carries; analysis reads e.g. BBQ's unknownIndex and targetIndex from here */
  meta: z.record(z.string(), z.unknown()),
});
export type Item = z.infer<typeof ItemSchema>;

/** BBQ metadata kept on `Item.meta` (both the JSONL and the ambiguous TSV readers fill what they can). */
export interface BbqMeta {
  category: string;
  exampleId?: number;
  contextCondition: 'ambig' | 'disambig';
  questionPolarity?: 'neg' | 'nonneg';
  /** index of the "unknown" option */
  unknownIndex: number;
  /** index of the non-unknown option that names a stereotyped group, or null when none matched */
  targetIndex: number | null;
  stereotypedGroups: string[];
  subcategory?: string;
}

export function letterLabels(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `(${String.fromCharCode(97 + i)})`);
}

export interface Diagnostic {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  severity: 'error' | 'warning';
  message: string;
  /** the field the message is about, where there is one */
  field?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}
