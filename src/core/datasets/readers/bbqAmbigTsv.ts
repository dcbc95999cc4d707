import { basename } from 'node:path';
import type { BbqMeta, Item } from '../../model/item';
import { letterLabels } from '../../model/item';
import { looksLikeUnknownOption, textTarget } from '../bbqTarget';
import { errorAt, warningAt } from '../diagnostics';
import type { PhysicalLine } from '../lines';
import { RowCheck } from '../rowCheck';
import { splitTabs } from '../tsvLine';
import type { DatasetEvent } from '../types';

/** `bbq.<Category>.txt` → Category; other names keep their stem so ids stay readable. */
export function bbqAmbigCategory(file: string): string {
  const name = basename(file);
  const m = /^bbq\.(.+)\.(txt|tsv)$/i.exec(name);
  return m ? m[1]! : name.replace(/\.[^.]*$/, '');
}

/**
 * `(a) X (b) Y (c) Z` → [X, Y, Z]. Markers are found in order, each after the previous option, so parentheses
 * inside an option text do not split it.
 */
export function parseLetteredOptions(s: string): string[] | null {
  const text = s.trim();
  const markers = ['(a)', '(b)', '(c)'];
  if (!text.toLowerCase().startsWith(markers[0]!)) return null;
  const starts: number[] = [0];
  let from = 3;
  for (const m of markers.slice(1)) {
    const re = new RegExp(`\\s\\(${m[1]}\\)\\s`, 'gi');
    re.lastIndex = from;
    const hit = re.exec(text);
    if (!hit) return null;
    starts.push(hit.index + 1);
    from = hit.index + hit[0].length;
  }
  const out = starts.map((st, i) => text.slice(st + 3, i + 1 < starts.length ? starts[i + 1] : undefined).trim());
  return out.some((o) => o === '') ? null : out;
}

export function parseGoldLetter(s: string): number | null {
  const m = /^\s*\(?([abc])\)?\s*$/i.exec(s);
  return m ? 'abc'.indexOf(m[1]!.toLowerCase()) : null;
}

/**
 * The reformatted ambiguous-context BBQ subsets (github.com/qzm233/SuperficialMoralSelfCorrection data/bbq):
 * context, question, lettered options, gold letter, stereotyped groups; tab-separated, no header.
 */
export async function* readBbqAmbigTsv(file: string, lines: AsyncIterable<PhysicalLine>): AsyncGenerator<DatasetEvent> {
  const category = bbqAmbigCategory(file);
  for await (const l of lines) {
    if (l.badUtf8Column !== undefined) {
      yield { diagnostic: errorAt({ file, line: l.line, column: l.badUtf8Column }, 'invalid UTF-8 byte sequence; the line was not read') };
      continue;
    }
    if (l.text.trim() === '') {
      yield { diagnostic: warningAt({ file, line: l.line, column: 1 }, 'blank line skipped') };
      continue;
    }
    const { cells, columns } = splitTabs(l.text);
    const names = ['context', 'question', 'options', 'answer', 'groups'];
    const c = new RowCheck(file, l.line, (f) => columns[names.indexOf(f)] ?? 1);
    if (cells.length !== 5) {
      c.error(undefined, `expected 5 tab-separated columns (context, question, options, answer, groups), got ${cells.length}`);
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    const [context, question, optionText, goldText, groupText] = cells as [string, string, string, string, string];
    if (context.trim() === '') c.error('context', 'column 1 (context) is empty');
    if (question.trim() === '') c.error('question', 'column 2 (question) is empty');
    const choices = parseLetteredOptions(optionText);
    if (!choices) c.error('options', `column 3 must look like "(a) … (b) … (c) …", got "${optionText.slice(0, 60)}"`);
    const gold = parseGoldLetter(goldText);
    if (gold === null) c.error('answer', `column 4 must be (a), (b) or (c), got "${goldText}"`);
    const groups = groupText.split(',').map((g) => g.trim()).filter((g) => g !== '');
    if (groups.length === 0) c.error('groups', 'column 5 (stereotyped groups) is empty');
    if (c.failed) {
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    if (!looksLikeUnknownOption(choices![gold!]!)) {
      c.warn('answer', `gold option "${choices![gold!]}" does not look like an "unknown" answer, though these rows are ambiguous`);
    }
    const target = textTarget(choices!, gold!, groups);
    if (target.index === null) c.warn('groups', `no target answer: ${target.problem}`);
    const meta: BbqMeta & Record<string, unknown> = {
      category,
      contextCondition: 'ambig',
      unknownIndex: gold!,
      targetIndex: target.index,
      stereotypedGroups: groups,
    };
    const item: Item = {
      id: `${category}/${l.line}`,
      kind: 'mcq',
      source: { file, line: l.line },
      fields: { context: context.trim(), question: question.trim() },
      choices: choices!,
      choiceLabels: letterLabels(3),
      answer: gold!,
      meta,
    };
    yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
    yield { item };
  }
}
