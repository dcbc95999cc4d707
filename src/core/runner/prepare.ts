import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { foldDataset, itemMatches } from '../datasets';
import { formatDiagnostic, type Item } from '../model/item';
import { SclabError } from '../model/errors';
import type { Experiment, ScorerRef } from '../model/experiment';
import { checkTemplatesAgainstItems, defaultExperiment, ItemShapes, getPreset, loadExperimentFile, presetForFormat } from '../protocol';
import type { DatasetInfo } from './run';
import { shareStrings } from '../util/shareStrings';
import { BatchedWriter, type StagedItems } from './store';

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
 * dataset or experiment fails here and leaves no half-made run folder behind. The items are held in memory (one copy
 * of each repeated string); a run starts from `stageExperiment`, which holds none of them.
 */
export async function prepareExperiment(input: ExperimentInput): Promise<PreparedExperiment> {
  const strings = new Map<string, string>();
  const items: Item[] = [];
  const prepared = await readExperiment(input, (item) => void items.push(shareStrings(item, strings)));
  return { ...prepared, items };
}

/**
 * `prepareExperiment` with the items written as they are read, in items.jsonl's form, to a file of their own (in
 * the temporary folder; the run folder takes it over, `RunStore.create`): a run never holds its dataset, so its
 * memory does not grow with it. The caller removes the file if no run takes it (`discardStaged`).
 */
export async function stageExperiment(input: ExperimentInput): Promise<Omit<PreparedExperiment, 'items'> & { items: StagedItems }> {
  await sweepStaged(tmpdir());
  const file = path.join(tmpdir(), `sclab-items-${process.pid}-${randomBytes(6).toString('hex')}.jsonl`);
  const fh = await fs.open(file, 'wx');
  try {
    const out = new BatchedWriter(fh);
    const prepared = await readExperiment(input, (item) => out.write(JSON.stringify(item) + '\n'));
    await out.flush();
    await fh.sync();
    await fh.close();
    return { ...prepared, items: { file, length: prepared.count } };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await discardStaged({ file, length: 0 });
    throw err;
  }
}

const STAGED_NAME = /^sclab-items-(\d+)-[0-9a-f]{12}\.jsonl$/;

/**
 * Removes the staged items of processes that no longer exist (killed between reading their dataset and creating
 * their run folder: every other path removes its own file). A process that is alive, or that this one may not signal
 * (another user's), keeps its files; so does a file whose name is not one stageExperiment writes. Best effort.
 */
export async function sweepStaged(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = STAGED_NAME.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    await fs.rm(path.join(dir, name), { force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes staged items no run took over (a no-op for those a run folder took). */
export async function discardStaged(items: StagedItems): Promise<void> {
  await fs.rm(items.file, { force: true });
}

/**
 * The one pass of both: the experiment, and its items in order to `take` (filtered and limited), checked as they
 * stream by; nothing of the items is kept but their shapes (ItemShapes: a few items) and their kinds.
 */
async function readExperiment(input: ExperimentInput, take: (item: Item) => void | Promise<void>): Promise<Omit<PreparedExperiment, 'items'> & { count: number }> {
  let given: Experiment | undefined;
  if (isExperimentFile(input.file)) {
    given = withAbsolutePaths(await loadExperimentFile(input.file), path.dirname(path.resolve(input.file)));
    if (input.rounds !== undefined) given = withRounds(given, input.rounds);
  } else if (input.preset) {
    given = getPreset(input.preset, input.file, { rounds: input.rounds });
  }
  // known before the items: the given experiment's filter (a default experiment has none) and the limit
  const filter = given?.dataset.filter;
  const limit = input.limit ?? given?.dataset.limit;
  /** the kinds of every item read (a default experiment's task), and of those kept: how many, and the first */
  const kinds = new Set<Item['kind']>();
  const kept = new Map<Item['kind'], { n: number; first: Item }>();
  const shapes = new ItemShapes();
  const loaded = await foldDataset(
    given?.dataset.path ?? input.file,
    async (item) => {
      kinds.add(item.kind);
      if (!itemMatches(item, filter) || (limit !== undefined && shapes.items >= Math.max(0, limit))) return;
      const k = kept.get(item.kind);
      if (k) k.n++;
      else kept.set(item.kind, { n: 1, first: item });
      shapes.add(item);
      await take(item);
    },
    { format: given?.dataset.format ?? 'auto', signal: input.signal },
  );
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (errors.length > 0) {
    throw new SclabError('dataset', `${loaded.path}: ${errors.length} error(s); nothing was run:\n  ${listDiagnostics(errors)}`);
  }
  const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  let exp = given ?? defaultFor(input, loaded.format, kinds);
  if (input.limit !== undefined) exp = { ...exp, dataset: { ...exp.dataset, limit: input.limit } };
  exp = withDefaultScorer(exp);

  if (shapes.items === 0) throw new SclabError('dataset', `${loaded.path}: no items left after the filter ${JSON.stringify(exp.dataset.filter ?? {})}`);
  const wrongKind = [...kept].find(([kind]) => kind !== exp.task)?.[1];
  if (wrongKind) {
    const first = wrongKind.first;
    throw new SclabError(
      'config',
      `${first.source.file}:${first.source.line}:1: item ${first.id} is a ${first.kind} item but the experiment's task is ${exp.task} (${wrongKind.n} such item(s))`,
    );
  }
  const templateProblems = checkTemplatesAgainstItems(exp, shapes).map(formatDiagnostic);
  if (templateProblems.length > 0) throw new SclabError('config', `the experiment's templates do not fit the data:\n  ${listDiagnostics(templateProblems)}`);
  return {
    experiment: exp,
    dataset: { path: path.resolve(loaded.path), sha256: loaded.sha256, format: loaded.format },
    warnings,
    count: shapes.items,
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
function defaultFor(input: ExperimentInput, format: string, kinds: ReadonlySet<Item['kind']>): Experiment {
  if (kinds.size > 1) {
    throw new SclabError('config', `${input.file} mixes multiple-choice and generation items; run them with an experiment file whose dataset.filter picks one kind (e.g. filter: {kind: [mcq]})`);
  }
  const task = kinds.has('generation') ? 'generation' : 'mcq';
  const preset = presetForFormat(format);
  const itemsLookLike = preset === 'paper-bbq' ? 'bbq' : preset === 'paper-winogender' ? 'winogender' : preset === 'paper-realtoxicity' ? 'rtp' : 'generic';
  return defaultExperiment(input.file, task, { rounds: input.rounds, itemsLookLike });
}
