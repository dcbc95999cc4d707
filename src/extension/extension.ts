// The composition root: a short, linear list of register…(deps) calls, each returning its disposables. Everything
// heavy (datasets, the runner, analysis, the viewer service) is imported inside the commands that need it, so that
// activation stays a few milliseconds.
import { moduleStart } from './activation-clock';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { askKeyOrigin, registerBackendCommands } from './backend-commands';
import { registerDemoDataset } from './demo-dataset';
import { BackendsTree } from './backends-tree';
import { registerExportRun } from './export-run';
import { registerItemLens } from './item-lens';
import { registerNewExperiment } from './new-experiment';
import { PromptsHolder } from './prompts';
import { registerResultsCommands } from './results-commands';
import { registerResultsSerializer, ResultsPanels } from './results-panel';
import { offerResume } from './resume-offer';
import { registerRunCommands } from './run-commands';
import { RunManager } from './run-manager';
import { pickRun } from './run-picker';
import { RunsTree } from './runs-tree';
import { watchRunsFolder } from './runs-watcher';
import { ApiKeys } from './secrets';
import { registerRunStatusBar } from './status-bar';
import { registerTrainProbe } from './train-probe';
import { registerValidateDataset } from './validate-dataset';

/** What activate() returns: the seams the extension tests use (answering prompts, reading the views' state). */
export interface SclabApi {
  prompts: PromptsHolder;
  runsTree: RunsTree;
  backendsTree: BackendsTree;
  panels: ResultsPanels;
  runs: RunManager;
  keys: ApiKeys;
  /** the user's settings folder (…/User): the tests check that no key is written there */
  userDir: string;
  /** this bundle's module evaluation + activate(), in milliseconds (VS Code's own work in between is not ours) */
  activationMs: number;
}

export function activate(context: vscode.ExtensionContext): SclabApi {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel('Self-Correction Lab', { log: true });
  const keys = new ApiKeys(context.secrets);
  const prompts = new PromptsHolder();
  const runs = new RunManager({ log, keys, askKeyOrigin, distDir: path.join(context.extensionPath, 'dist') });
  const runsTree = new RunsTree(runs, log);
  const backendsTree = new BackendsTree(keys);
  const panels = new ResultsPanels({ extensionUri: context.extensionUri, log, runs, memento: context.workspaceState });
  const lens = registerItemLens({ tree: runsTree, log });
  const choose = (title: string) => pickRun(runsTree, prompts, title);

  context.subscriptions.push(
    log,
    runs,
    runsTree,
    backendsTree,
    panels,
    vscode.window.registerTreeDataProvider('sclab.runs', runsTree),
    vscode.window.registerTreeDataProvider('sclab.backends', backendsTree),
    ...registerValidateDataset({ log, distDir: path.join(context.extensionPath, 'dist') }),
    ...registerRunCommands({ log, runs, tree: runsTree, prompts }),
    ...registerNewExperiment({ log, prompts }),
    ...registerDemoDataset({ log, extensionPath: context.extensionPath }),
    ...registerBackendCommands({ log, keys, prompts }),
    ...registerResultsCommands({ log, panels, pickRun: choose }),
    ...registerExportRun({ log, prompts, pickRun: choose }),
    ...registerTrainProbe({ log, prompts, distDir: path.join(context.extensionPath, 'dist') }),
    registerResultsSerializer(panels),
    ...registerRunStatusBar(runs),
    ...lens.disposables,
    ...watchRunsFolder(() => {
      runsTree.refresh();
      lens.provider.invalidate();
    }),
  );
  void offerResume(runsTree, log).catch((err) => log.warn(`resume offer: ${String(err)}`));
  const activateMs = performance.now() - activateStart;
  const activationMs = moduleEvaluatedMs + activateMs;
  log.info(`activated in ${activationMs.toFixed(1)} ms (module evaluation ${moduleEvaluatedMs.toFixed(1)} ms, activate() ${activateMs.toFixed(1)} ms)`);
  return { prompts, runsTree, backendsTree, panels, runs, keys, userDir: path.resolve(context.globalStorageUri.fsPath, '..', '..'), activationMs };
}

export function deactivate(): void {}

const moduleEvaluatedMs = performance.now() - moduleStart;
