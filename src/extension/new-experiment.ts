import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommand, type CommandDeps } from './command';
import { core } from './load-core';
import type { PromptsHolder } from './prompts';

export interface NewExperimentDeps extends CommandDeps {
  prompts: PromptsHolder;
}

const DATASET_GLOB = '**/*.{jsonl,csv,tsv}';
const EXCLUDE = '{**/node_modules/**,**/.sclab/**,**/.git/**}';

/** Answers a caller (a test, the walkthrough) may give instead of the questions. */
interface NewExperimentOptions {
  file?: string;
  /** a preset name, or '' for the default protocol */
  preset?: string;
  limit?: number;
}

function optionsOf(arg: unknown): NewExperimentOptions {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? { file: arg.fsPath } : {};
  const o = (arg && typeof arg === 'object' ? arg : {}) as Record<string, unknown>;
  return {
    ...(typeof o.file === 'string' ? { file: o.file } : {}),
    ...(typeof o.preset === 'string' ? { preset: o.preset } : {}),
    ...(typeof o.limit === 'number' ? { limit: o.limit } : {}),
  };
}

/**
 * "New Experiment…": writes a commented *.sclab.yaml for a dataset (from a preset or the default protocol) next to
 * it, opens it; the editor title's ▷ runs it.
 */
async function newExperiment(deps: NewExperimentDeps, arg: unknown): Promise<string | undefined> {
  const given = optionsOf(arg);
  const p = deps.prompts.current;
  let file = given.file;
  if (!file) {
    const uris = await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE, 500);
    const items = uris
      .map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), file: u.fsPath }))
      .sort((a, b) => a.description.localeCompare(b.description));
    const picked = await p.pick([...items, { label: '$(folder-opened) Browse…', description: '', file: '' }], { title: 'New Experiment (1/2): dataset', matchOnDescription: true, ignoreFocusOut: true });
    if (!picked) return undefined;
    file = picked.file || (await p.openFile({ title: 'Dataset', filters: { Datasets: ['jsonl', 'csv', 'tsv'] } }))?.fsPath;
    if (!file) return undefined;
  }
  let preset = given.preset;
  if (preset === undefined) {
    const { PRESET_NAMES } = await core();
    const picked = await p.pick(
      [{ label: 'default protocol', description: 'baseline + self-correct in the paper\'s wording for this data', preset: '' }, ...PRESET_NAMES.map((n) => ({ label: n, description: 'the paper\'s full protocol', preset: n }))],
      { title: 'New Experiment (2/2): start from', ignoreFocusOut: true },
    );
    if (!picked) return undefined;
    preset = picked.preset;
  }
  const { writeNewExperiment } = await core();
  const written = await writeNewExperiment({ dataset: file, preset: preset || undefined, limit: given.limit });
  deps.log.info(`new experiment ${written} for ${file}${preset ? ` (preset ${preset})` : ''}`);
  await vscode.window.showTextDocument(vscode.Uri.file(written), { preview: false });
  return written;
}

export function registerNewExperiment(deps: NewExperimentDeps): vscode.Disposable[] {
  return [registerCommand(deps, 'sclab.newExperiment', (arg?: unknown) => newExperiment(deps, arg))];
}
