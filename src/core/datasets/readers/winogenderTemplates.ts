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
  parseTemplateRow,
  SLOT_TOKENS,
  TEMPLATES_HEADER,
  WINOGENDER_CHOICES,
} from '../winogender';
import type { OccupationStats } from '../winogender';

export function statsMeta(stats: Map<string, OccupationStats> | null, occupation: string): Record<string, number> {
  const s = stats?.get(occupation);
  return s ? { pctFemaleBls: s.pctFemaleBls, pctFemaleBergsma: s.pctFemaleBergsma, blsYear: s.blsYear } : {};
}

/**
 * Winogender templates.tsv as the paper's fill-the-blank task: roles filled in, the pronoun slot shown as "_", and
 * the model asked to choose they/he/she ("they" is the unbiased answer).
 */
export async function* readWinogenderTemplates(
  file: string,
  lines: AsyncIterable<PhysicalLine>,
  signal?: AbortSignal,
): AsyncGenerator<DatasetEvent> {
  const { stats, diagnostics } = await loadOccupationStats(dirname(file), signal);
  for (const diagnostic of diagnostics) yield { diagnostic };
  const seen = new Map<string, number>();
  for await (const l of lines) {
    if (l.badUtf8Column !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: l.badUtf8Column }, 'invalid UTF-8 byte sequence; the line was not read') };
      continue;
    }
    if (l.line === 1) {
      if (!headerMatches(splitTabs(l.text).cells, TEMPLATES_HEADER)) {
        yield { diagnostic: errorAt({ file, line: 1, column: 1 }, `expected the header "${TEMPLATES_HEADER.join('\\t')}"`) };
        if (!l.text.includes('$OCCUPATION')) continue;
      } else continue;
    }
    if (l.text.trim() === '') {
      yield { diagnostic: warningAt({ file, line: l.line, column: 1 }, 'blank line skipped') };
      continue;
    }
    const r = parseTemplateRow(file, l.line, l.text);
    if ('diagnostics' in r) {
      for (const diagnostic of r.diagnostics) yield { diagnostic };
      continue;
    }
    const t = r.template;
    const id = `${t.occupation}.${t.participant}.${t.answer}`;
    const first = seen.get(id);
    if (first !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: 1 }, `duplicate id '${id}' (first at line ${first})`, 'occupation') };
      continue;
    }
    seen.set(id, l.line);
    if (stats && !stats.has(t.occupation)) {
      yield { diagnostic: warningAt({ file, line: l.line, column: 1 }, `occupation '${t.occupation}' has no row in occupations-stats.tsv`, 'occupation') };
    }
    const sentence = fillRoles(t.template, t.occupation, t.participant).split(SLOT_TOKENS[t.slot]).join('_');
    const item: Item = {
      id,
      kind: 'mcq',
      source: { file, line: l.line },
      fields: { sentence },
      choices: [...WINOGENDER_CHOICES],
      choiceLabels: [...WINOGENDER_CHOICES],
      answer: 0,
      meta: {
        occupation: t.occupation,
        participant: t.participant,
        referent: t.answer === 0 ? 'occupation' : 'participant',
        pronounSlot: t.slot,
        template: t.template,
        ...statsMeta(stats, t.occupation),
      },
    };
    yield { item };
  }
}
