import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SclabError } from '../model/errors';
import { experimentToYaml, formatExperimentDiagnostic, parseExperimentYaml } from '../protocol';
import { prepareExperiment } from './prepare';

export interface NewExperimentInput {
  /** the dataset the experiment reads */
  dataset: string;
  /** a paper preset; without one, the default protocol for the data (what a run on the bare file would use) */
  preset?: string;
  limit?: number;
  rounds?: number;
}

/** `<folder of the dataset>/<stem>.sclab.yaml`, or `<stem>-2.sclab.yaml`, … when that file exists: nothing is overwritten. */
export async function freeExperimentPath(dataset: string): Promise<string> {
  const dir = path.dirname(path.resolve(dataset));
  const stem = path.basename(dataset).replace(/\.[^.]*$/, '') || 'experiment';
  for (let n = 1; n < 1000; n++) {
    const candidate = path.join(dir, `${stem}${n === 1 ? '' : `-${n}`}.sclab.yaml`);
    if (!(await fs.stat(candidate).then(() => true, () => false))) return candidate;
  }
  throw new SclabError('io', `${dir}: no free name for a new experiment file next to ${path.basename(dataset)}`);
}

/**
 * The text of a new experiment file for a dataset: the experiment a run would use (the dataset is read and the
 * templates checked against its items first, so a file that cannot run is never written), every setting written
 * out with comments, the dataset path relative to the experiment file.
 */
export async function draftExperimentFile(input: NewExperimentInput, target: string): Promise<string> {
  const prepared = await prepareExperiment({ file: input.dataset, preset: input.preset, limit: input.limit, rounds: input.rounds });
  const relative = path.relative(path.dirname(path.resolve(target)), path.resolve(input.dataset)).split(path.sep).join('/');
  const text = experimentToYaml({ ...prepared.experiment, dataset: { ...prepared.experiment.dataset, path: relative } });
  // the file must load as written; a failure here is our bug, not the user's
  const problems = parseExperimentYaml(text, target).diagnostics.filter((d) => d.severity === 'error');
  if (problems.length > 0) throw new SclabError('internal', `the drafted experiment does not parse:\n  ${problems.map(formatExperimentDiagnostic).join('\n  ')}`);
  return text;
}

/** Writes a new experiment file next to the dataset (never over an existing file) and returns its path. */
export async function writeNewExperiment(input: NewExperimentInput): Promise<string> {
  const target = await freeExperimentPath(input.dataset);
  const text = await draftExperimentFile(input, target);
  await fs.writeFile(target, text, { flag: 'wx' });
  return target;
}
