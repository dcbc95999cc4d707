import type { BbqMeta, Item } from '../../model/item';
import { letterLabels } from '../../model/item';
import { bbqJsonlTarget } from '../bbqTarget';
import { columnOfKey } from '../jsonError';
import { jsonObjectRows } from '../jsonl';
import type { PhysicalLine } from '../lines';
import { RowCheck } from '../rowCheck';
import type { DatasetEvent } from '../types';

const ANSWER_KEYS = ['ans0', 'ans1', 'ans2'] as const;

/** Official BBQ JSONL (github.com/nyu-mll/BBQ data/<Category>.jsonl), one example per line. */
export async function* readBbqJsonl(file: string, lines: AsyncIterable<PhysicalLine>): AsyncGenerator<DatasetEvent> {
  const seen = new Map<string, number>();
  for await (const row of jsonObjectRows(file, lines)) {
    if ('diagnostic' in row) {
      yield row;
      continue;
    }
    const o = row.value;
    const c = new RowCheck(file, row.line, (k) => columnOfKey(row.text, k));
    const exampleId = c.int(o, 'example_id');
    const questionIndex = c.string(o, 'question_index');
    const questionPolarity = c.oneOf(o, 'question_polarity', ['neg', 'nonneg'] as const);
    const contextCondition = c.oneOf(o, 'context_condition', ['ambig', 'disambig'] as const);
    const category = c.string(o, 'category');
    const context = c.string(o, 'context');
    const question = c.string(o, 'question');
    const choices = ANSWER_KEYS.map((k) => c.string(o, k));
    const label = c.int(o, 'label');
    if (label !== undefined && (label < 0 || label > 2)) c.error('label', `field 'label' must be 0, 1 or 2, got ${label}`);

    const info = c.object(o, 'answer_info');
    const answerInfo: Array<[string, string] | undefined> = ANSWER_KEYS.map((k) => {
      if (!info) return undefined;
      const pair = c.stringArray(info, k, `answer_info.${k}`);
      if (pair && pair.length !== 2) {
        c.error(`answer_info.${k}`, `field 'answer_info.${k}' must be [surface text, group tag], got ${pair.length} strings`);
        return undefined;
      }
      return pair as [string, string] | undefined;
    });
    const am = c.object(o, 'additional_metadata');
    const groups = am ? c.stringArray(am, 'stereotyped_groups', 'additional_metadata.stereotyped_groups') : undefined;
    const subcategory = am && typeof am.subcategory === 'string' ? am.subcategory : undefined;
    const sourceUrl = am && typeof am.source === 'string' ? am.source : undefined;
    const version = am && typeof am.version === 'string' ? am.version : undefined;

    let unknownIndex: number | undefined;
    if (answerInfo.every((a) => a !== undefined)) {
      const unknowns = answerInfo.flatMap((a, i) => (a![1].toLowerCase() === 'unknown' ? [i] : []));
      if (unknowns.length === 1) unknownIndex = unknowns[0];
      else c.error('answer_info', `answer_info must tag exactly one option 'unknown', found ${unknowns.length}`);
    }
    if (c.failed || exampleId === undefined || category === undefined || unknownIndex === undefined) {
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    const id = `${category}/${exampleId}`;
    const firstLine = seen.get(id);
    if (firstLine !== undefined) {
      c.error('example_id', `duplicate id '${id}' (first at line ${firstLine})`);
      yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
      continue;
    }
    seen.set(id, row.line);
    if (contextCondition === 'ambig' && label !== unknownIndex) {
      c.warn('label', `ambiguous-context row whose gold answer (${label}) is not the unknown option (${unknownIndex})`);
    }
    const target = bbqJsonlTarget(category, answerInfo as Array<[string, string]>, unknownIndex, groups!);
    if (target.index === null) c.warn('additional_metadata', `no target answer: ${target.problem}`);

    const meta: BbqMeta & Record<string, unknown> = {
      category,
      exampleId,
      contextCondition: contextCondition!,
      questionPolarity: questionPolarity!,
      unknownIndex,
      targetIndex: target.index,
      stereotypedGroups: groups!,
      questionIndex: questionIndex!,
      answerGroups: answerInfo.map((a) => a![1]),
    };
    if (subcategory !== undefined) meta.subcategory = subcategory;
    if (sourceUrl !== undefined) meta.source = sourceUrl;
    if (version !== undefined) meta.version = version;
    const item: Item = {
      id,
      kind: 'mcq',
      source: { file, line: row.line },
      fields: { context: context!, question: question! },
      choices: choices as string[],
      choiceLabels: letterLabels(3),
      answer: label!,
      meta,
    };
    yield* c.diagnostics.map((diagnostic) => ({ diagnostic }));
    yield { item };
  }
}
