import type { Condition, Experiment, TurnTemplate } from '../model/experiment';
import { ExperimentSchema } from '../model/experiment';
import { SclabError } from '../model/errors';
import { BBQ, PAPER_MAX_TOKENS, RTP, WINOGENDER, withInstruction } from './paperWording';

/**
 * The paper's presets (see /shared/notes/paper-protocol.md). Choices of ours, where the note is silent:
 * - Winogender has no negation condition: the note gives no negation wording for it and we invent none.
 * - Instruction variants are single-round by default (question + paraphrase, baseline prefill): they compare the
 *   round-1 instructions. `variantRounds` > 1 follows each with the review turn, like self-correct.
 * - Datasets are read with format "auto"; BBQ keeps ambiguous contexts only (filter contextCondition: [ambig]).
 * - RealToxicityPrompts: no sample size is set (the paper sampled 200, 1000 or 2000 prompts); set dataset.limit.
 */
export const PRESET_NAMES: readonly string[] = ['paper-bbq', 'paper-winogender', 'paper-realtoxicity'];

export const DEFAULT_PAPER_ROUNDS = 5;
export const DEFAULT_ROUNDS = 3;

export interface PresetOptions {
  /** self-correction rounds (round 1 + review rounds); 5 by default */
  rounds?: number;
  /** rounds of each BBQ instruction variant; 1 by default (the paraphrased round-1 turn only) */
  variantRounds?: number;
}

interface Wording {
  question: string;
  instruction: string;
  prefill: string;
  review: string;
  reviewPrefill: string;
}

function checkRounds(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > 50) {
    throw new SclabError('config', `${what} must be a whole number from 1 to 50, got ${String(value)}`);
  }
  return n;
}

function turn(user: string, prefill: string): TurnTemplate {
  return { user, prefill };
}

function baseline(w: Wording): Condition {
  return {
    name: 'baseline',
    kind: 'baseline',
    turns: [turn(w.question, w.prefill)],
    rounds: 1,
    description: 'the question alone, no instruction',
  };
}

function selfCorrect(w: Wording, rounds: number): Condition {
  return {
    name: 'self-correct',
    kind: 'self-correct',
    turns: [turn(withInstruction(w.question, w.instruction), w.prefill), turn(w.review, w.reviewPrefill)],
    rounds,
    description: 'round 1: question + instruction; later rounds: the review instruction, history carried',
  };
}

function bbqConditions(rounds: number, variantRounds: number): Condition[] {
  const negation: Condition = {
    name: 'negation',
    kind: 'control',
    turns: [turn(withInstruction(BBQ.question, BBQ.negation), BBQ.prefill)],
    rounds: 1,
    description: 'control: the question with an immoral instruction',
  };
  const variants = BBQ.variants.map(
    (paraphrase, i): Condition => ({
      name: `variant-${String(i + 1).padStart(2, '0')}`,
      kind: 'variant',
      turns:
        variantRounds > 1
          ? [turn(withInstruction(BBQ.question, paraphrase), BBQ.prefill), turn(BBQ.review, BBQ.reviewPrefill)]
          : [turn(withInstruction(BBQ.question, paraphrase), BBQ.prefill)],
      rounds: variantRounds,
      description: `instruction paraphrase ${i + 1} of 10`,
    }),
  );
  return [baseline(BBQ), selfCorrect(BBQ, rounds), negation, ...variants];
}

function rtpConditions(rounds: number, promptSlot: string): Condition[] {
  const fill = (t: string): string => t.replaceAll('{prompt}', promptSlot);
  return [
    { name: 'baseline', kind: 'baseline', turns: [turn(fill(RTP.baseline), RTP.prefill)], rounds: 1, description: 'complete the prompt, no instruction' },
    {
      name: 'self-correct',
      kind: 'self-correct',
      turns: [turn(fill(RTP.selfCorrect), RTP.prefill), turn(RTP.review, RTP.prefill)],
      rounds,
      description: 'round 1: complete with non-toxic content; later rounds: the review instruction, history carried',
    },
    { name: 'negation', kind: 'control', turns: [turn(fill(RTP.negation), RTP.prefill)], rounds: 1, description: 'control: complete with toxic content' },
  ];
}

function experiment({ name, datasetPath, task, conditions, filter }: { name: string; datasetPath: string; task: 'mcq' | 'generation'; conditions: Condition[]; filter?: Record<string, string[]> }): Experiment {
  return ExperimentSchema.parse({
    name,
    preset: PRESET_NAMES.includes(name) ? name : undefined,
    dataset: { path: datasetPath, format: 'auto', ...(filter ? { filter } : {}) },
    task,
    conditions,
    decoding: { temperature: 0, maxTokens: PAPER_MAX_TOKENS[task] },
  });
}

export function getPreset(name: string, datasetPath: string, opts: PresetOptions = {}): Experiment {
  const rounds = checkRounds(opts.rounds, DEFAULT_PAPER_ROUNDS, 'rounds');
  switch (name) {
    case 'paper-bbq':
      return experiment({ name, datasetPath, task: 'mcq', conditions: bbqConditions(rounds, checkRounds(opts.variantRounds, 1, 'variantRounds')), filter: { contextCondition: ['ambig'] } });
    case 'paper-winogender':
      return experiment({ name, datasetPath, task: 'mcq', conditions: [baseline(WINOGENDER), selfCorrect(WINOGENDER, rounds)] });
    case 'paper-realtoxicity':
      return experiment({ name, datasetPath, task: 'generation', conditions: rtpConditions(rounds, '{prompt}') });
    default:
      throw new SclabError('config', `unknown preset "${name}"; the presets are: ${PRESET_NAMES.join(', ')}`);
  }
}

/** The preset that fits a dataset format the readers detected, if any. */
export function presetForFormat(format: string): string | undefined {
  if (format === 'bbq-jsonl' || format === 'bbq-ambig-tsv') return 'paper-bbq';
  if (format === 'winogender-templates' || format === 'winogender-sentences') return 'paper-winogender';
  if (format === 'rtp-jsonl') return 'paper-realtoxicity';
  return undefined;
}

function stem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? '';
  return base.replace(/\.[^.]*$/, '') || 'experiment';
}

/**
 * Baseline + self-correct with the paper's wording for the task type. A generic multiple-choice file gets the BBQ
 * wording with an optional context ("{context?} {question} {choices}."); a generic generation file gets the RTP
 * wording on its prompt (or, lacking one, its question). Unlike the paper-bbq preset it filters nothing: a file
 * that looks like BBQ keeps its disambiguated items too.
 */
export function defaultExperiment(
  datasetPath: string,
  task: 'mcq' | 'generation',
  opts: { rounds?: number; itemsLookLike?: 'bbq' | 'winogender' | 'rtp' | 'generic' } = {},
): Experiment {
  const rounds = checkRounds(opts.rounds, DEFAULT_ROUNDS, 'rounds');
  const look = opts.itemsLookLike ?? 'generic';
  const name = `${stem(datasetPath)}-self-correct`;
  if (task === 'generation') {
    return experiment({ name, datasetPath, task, conditions: rtpConditions(rounds, look === 'rtp' ? '{prompt}' : '{prompt|question}').slice(0, 2) });
  }
  let wording: Wording = { ...BBQ, question: '{context?} {question} {choices}.' };
  if (look === 'bbq') wording = BBQ;
  if (look === 'winogender') wording = WINOGENDER;
  return experiment({ name, datasetPath, task, conditions: [baseline(wording), selfCorrect(wording, rounds)] });
}
