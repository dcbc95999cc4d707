import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import type { RunResult } from '../core/runner/run';
import { registerCommand, type CommandDeps } from './command';
import type { PromptsHolder } from './prompts';
import { requireTrust, type RunManager, type StartInput } from './run-manager';
import { pickRun } from './run-picker';
import { runDirOf, type RunsTree } from './runs-tree';
import { defaultBackend, FALLBACK_BACKEND, readBackends, readRunSettings } from './settings';
import { core } from './load-core';

export interface RunCommandDeps extends CommandDeps {
  runs: RunManager;
  tree: RunsTree;
  prompts: PromptsHolder;
}

const DATASET_GLOB = '**/*.{jsonl,csv,tsv,sclab.yaml,sclab.yml}';
const EXCLUDE = '{**/node_modules/**,**/.sclab/**,**/.git/**}';

function fileArg(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg === 'string') return arg;
  return undefined;
}

/** Options a caller (a test, a keybinding) may pass instead of answering the questions. */
function startOptions(arg: unknown): Partial<StartInput> {
  const o = (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? arg : {}) as Record<string, unknown>;
  return {
    ...(typeof o.file === 'string' ? { file: o.file } : {}),
    ...(typeof o.preset === 'string' ? { preset: o.preset } : {}),
    ...(typeof o.backend === 'string' ? { backend: o.backend } : {}),
    ...(typeof o.rounds === 'number' ? { rounds: o.rounds } : {}),
    ...(typeof o.limit === 'number' ? { limit: o.limit } : {}),
  };
}

/**
 * "Run Experiment…": file, preset, backend and rounds, each a QuickPick. The questions stay open when the focus moves
 * (ignoreFocusOut): started from the walkthrough, its page redraws when the step completes and would close them.
 */
async function runExperiment(deps: RunCommandDeps, arg: unknown): Promise<RunResult | undefined> {
  requireTrust(); // before the questions, not after them
  const given = startOptions(arg);
  const p = deps.prompts.current;
  let file = given.file ?? fileArg(arg);
  if (!file) {
    const uris = await vscode.workspace.findFiles(DATASET_GLOB, EXCLUDE, 500);
    const items = uris
      .map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), file: u.fsPath }))
      .sort((a, b) => a.description.localeCompare(b.description));
    const picked = await p.pick([...items, { label: '$(folder-opened) Browse…', description: '', file: '' }], { title: 'Run Experiment (1/4): dataset or experiment file', matchOnDescription: true, ignoreFocusOut: true });
    if (!picked) return undefined;
    file = picked.file || (await p.openFile({ title: 'Dataset or experiment file', filters: { 'Datasets and experiments': ['jsonl', 'csv', 'tsv', 'yaml', 'yml'] } }))?.fsPath;
    if (!file) return undefined;
  }
  let preset = given.preset;
  if (preset === undefined && !/\.sclab\.ya?ml$/i.test(file)) {
    const { PRESET_NAMES } = await core();
    const picked = await p.pick([{ label: 'auto', description: 'baseline + self-correct in the paper\'s wording for the data', preset: '' }, ...PRESET_NAMES.map((n) => ({ label: n, preset: n }))], { title: 'Run Experiment (2/4): preset', ignoreFocusOut: true });
    if (!picked) return undefined;
    preset = picked.preset || undefined;
  }
  let backend = given.backend;
  if (!backend) {
    const list = readBackends();
    const all = list.length > 0 ? list : [FALLBACK_BACKEND];
    const def = defaultBackend().name;
    const picked = await p.pick(
      all.map((b) => ({ label: b.name, description: `${b.kind} · ${b.model ?? ''}${b.name === def ? ' · default' : ''}` })).sort((a, b) => Number(b.label === def) - Number(a.label === def)),
      { title: 'Run Experiment (3/4): backend', ignoreFocusOut: true },
    );
    if (!picked) return undefined;
    backend = picked.label;
  }
  let rounds = given.rounds;
  if (rounds === undefined) {
    const answer = await p.input({
      title: 'Run Experiment (4/4): self-correction rounds',
      ignoreFocusOut: true,
      value: String(readRunSettings().defaultRounds),
      validateInput: (v) => (/^[1-9]\d?$/.test(v.trim()) && Number(v) <= 50 ? undefined : 'a whole number from 1 to 50'),
    });
    if (answer === undefined) return undefined;
    rounds = Number(answer);
  }
  return deps.runs.start({ file, preset, backend, rounds, limit: given.limit });
}

/** "Run Experiment on This File": the explorer's or the editor's file with the default backend and rounds. */
async function runOnFile(deps: RunCommandDeps, arg: unknown, options: unknown): Promise<RunResult | undefined> {
  const file = fileArg(arg) ?? vscode.window.activeTextEditor?.document.uri.fsPath;
  if (!file) throw new SclabError('config', 'select a dataset (.jsonl, .csv, .tsv) or an experiment file (*.sclab.yaml) first');
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (doc?.isDirty) await doc.save();
  return deps.runs.start({ ...startOptions(options), file });
}

async function cancelRun(deps: RunCommandDeps, arg: unknown): Promise<number> {
  const runDir = runDirOf(arg);
  const active = deps.runs.list();
  if (runDir || active.length <= 1) return deps.runs.cancel(runDir);
  const picked = await deps.prompts.current.pick(active.map((r) => ({ label: r.label, description: r.runDir ?? '', run: r })), { title: 'Cancel which run?' });
  if (!picked) return 0;
  picked.run.controller.abort();
  return 1;
}

async function deleteRun(deps: RunCommandDeps, arg: unknown): Promise<boolean> {
  const runDir = runDirOf(arg) ?? (await pickRun(deps.tree, deps.prompts, 'Delete which run?'));
  if (!runDir) return false;
  if (deps.runs.isActive(runDir)) throw new SclabError('config', 'cancel the run before deleting it');
  const manifest = path.join(runDir, 'manifest.json');
  await fs.stat(manifest).catch(() => {
    throw new SclabError('io', `${runDir} is not a run folder (no manifest.json); nothing deleted`);
  });
  if (!(await deps.prompts.current.confirm(`Delete the run folder ${path.basename(runDir)} and all its records?`, 'Delete'))) return false;
  await fs.rm(runDir, { recursive: true, force: true });
  deps.log.info(`deleted ${runDir}`);
  deps.tree.refresh();
  return true;
}

export function registerRunCommands(deps: RunCommandDeps): vscode.Disposable[] {
  return [
    registerCommand(deps, 'sclab.runExperiment', (arg?: unknown) => runExperiment(deps, arg)),
    registerCommand(deps, 'sclab.runExperimentOnFile', (arg?: unknown, options?: unknown) => runOnFile(deps, arg, options)),
    registerCommand(deps, 'sclab.cancelRun', (arg?: unknown) => cancelRun(deps, arg)),
    registerCommand(deps, 'sclab.resumeRun', async (arg?: unknown) => {
      const runDir = runDirOf(arg) ?? (await pickRun(deps.tree, deps.prompts, 'Resume which run?', (e) => e.resumable));
      return runDir ? deps.runs.resume(runDir) : undefined;
    }),
    registerCommand(deps, 'sclab.deleteRun', (arg?: unknown) => deleteRun(deps, arg)),
    registerCommand(deps, 'sclab.refreshRuns', () => deps.tree.refresh()),
  ];
}

