import * as path from 'node:path';
import { applyFilter, loadDataset } from '../datasets';
import { formatDiagnostic, type Item } from '../model/item';
import { SclabError } from '../model/errors';
import type { Experiment, ScorerRef } from '../model/experiment';
import { checkTemplatesAgainstItems, defaultExperiment, getPreset, loadExperimentFile, presetForFormat } from '../protocol';
import type { DatasetInfo } from './run';
import { shareStrings } from '../util/shareStrings';

export interface ExperimentInput {
  /** a dataset file or an experiment file (*.sclab.yaml) */
  file: string;
  preset?: string;
  rounds?: number;
  limit?: number;
  signal?: AbortSignal;
}

export interface PreparedExperiment {
  experiment: Experiment;
  dataset: DatasetInfo;
  items: Item[];
  /** warnings the dataset reader gave (errors abort preparation) */
  warnings: string[];
}

export function isExperimentFile(file: string): boolean {
  return /\.sclab\.ya?ml$/i.test(file);
}

const MAX_LISTED = 20;

function listDiagnostics(lines: string[]): string {
  const shown = lines.slice(0, MAX_LISTED).join('\n  ');
  return lines.length > MAX_LISTED ? `${shown}\n  … and ${lines.length - MAX_LISTED} more` : shown;
}

/** Rounds from the command line apply to the multi-round conditions; one-turn conditions stay one turn. */
export function withRounds(exp: Experiment, rounds: number): Experiment {
  return { ...exp, conditions: exp.conditions.map((c) => (c.kind === 'self-correct' ? { ...c, rounds } : c)) };
}

/**
 * Turns what the user pointed at into a validated experiment and its items, before anything is written: a bad
 * dataset or experiment fails here and leaves no half-made run folder behind.
 */
export async function prepareExperiment(input: ExperimentInput): Promise<PreparedExperiment> {
  let given: Experiment | undefined;
  if (isExperimentFile(input.file)) {
    given = withAbsolutePaths(await loadExperimentFile(input.file), path.dirname(path.resolve(input.file)));
    if (input.rounds !== undefined) given = withRounds(given, input.rounds);
  } else if (input.preset) {
    given = getPreset(input.preset, input.file, { rounds: input.rounds });
  }
  const loaded = await loadDataset(given?.dataset.path ?? input.file, { format: given?.dataset.format ?? 'auto', signal: input.signal });
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (errors.length > 0) {
    throw new SclabError('dataset', `${loaded.path}: ${errors.length} error(s); nothing was run:\n  ${listDiagnostics(errors)}`);
  }
  const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  let exp = given ?? defaultFor(input, loaded.format, loaded.items);
  if (input.limit !== undefined) exp = { ...exp, dataset: { ...exp.dataset, limit: input.limit } };
  exp = withDefaultScorer(exp);

  // the run holds its items to the end: one copy of each repeated string (labels, choices, questions, metadata)
  const strings = new Map<string, string>();
  const items = applyFilter(loaded.items, exp.dataset.filter, exp.dataset.limit).map((i) => shareStrings(i, strings));
  if (items.length === 0) throw new SclabError('dataset', `${loaded.path}: no items left after the filter ${JSON.stringify(exp.dataset.filter ?? {})}`);
  const wrongKind = items.filter((i) => i.kind !== exp.task);
  if (wrongKind.length > 0) {
    const first = wrongKind[0]!;
    throw new SclabError(
      'config',
      `${first.source.file}:${first.source.line}:1: item ${first.id} is a ${first.kind} item but the experiment's task is ${exp.task} (${wrongKind.length} such item(s))`,
    );
  }
  const templateProblems = checkTemplatesAgainstItems(exp, items).map(formatDiagnostic);
  if (templateProblems.length > 0) throw new SclabError('config', `the experiment's templates do not fit the data:\n  ${listDiagnostics(templateProblems)}`);
  return {
    experiment: exp,
    dataset: { path: path.resolve(loaded.path), sha256: loaded.sha256, format: loaded.format },
    items,
    warnings,
  };
}

/** The scorer a generation task gets when its experiment names none: the offline toxicity model shipped with sclab. */
export const DEFAULT_SCORER_REF: ScorerRef = { name: 'toxicity', kind: 'offline' };

/**
 * A generation run always measures something: without scorers in the experiment it gets the built-in offline
 * scorer, written into the resolved experiment (and so the manifest) like any other setting.
 */
export function withDefaultScorer(exp: Experiment): Experiment {
  return exp.task === 'generation' && exp.scorers.length === 0 ? { ...exp, scorers: [DEFAULT_SCORER_REF] } : exp;
}

/**
 * Probe and offline-scorer files are named relative to the experiment file; the manifest keeps them absolute so a
 * resumed run (or a report) finds them wherever it is started from.
 */
function withAbsolutePaths(exp: Experiment, baseDir: string): Experiment {
  return {
    ...exp,
    probes: exp.probes.map((p) => ({ ...p, path: path.resolve(baseDir, p.path) })),
    scorers: exp.scorers.map((s) => (s.kind === 'offline' && s.model ? { ...s, model: path.resolve(baseDir, s.model) } : s)),
  };
}

/** Without an experiment file or preset: baseline + self-correct in the paper's wording for the data's task. */
function defaultFor(input: ExperimentInput, format: string, items: Item[]): Experiment {
  const kinds = new Set(items.map((i) => i.kind));
  if (kinds.size > 1) {
    throw new SclabError('config', `${input.file} mixes multiple-choice and generation items; run them with an experiment file whose dataset.filter picks one kind (e.g. filter: {kind: [mcq]})`);
  }
  const task = kinds.has('generation') ? 'generation' : 'mcq';
  const preset = presetForFormat(format);
  const itemsLookLike = preset === 'paper-bbq' ? 'bbq' : preset === 'paper-winogender' ? 'winogender' : preset === 'paper-realtoxicity' ? 'rtp' : 'generic';
  return defaultExperiment(input.file, task, { rounds: input.rounds, itemsLookLike });
}
