import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import { registerCommand, type CommandDeps } from './command';
import type { ResultsPanels } from './results-panel';
import { runDirOf } from './runs-tree';

export interface ResultsCommandDeps extends CommandDeps {
  panels: ResultsPanels;
  pickRun: (title: string) => Promise<string | undefined>;
}

export function registerResultsCommands(deps: ResultsCommandDeps): vscode.Disposable[] {
  return [
    registerCommand(deps, 'sclab.openResults', async (arg?: unknown) => {
      const runDir = runDirOf(arg) ?? (await deps.pickRun('Open the results of which run?'));
      if (!runDir) return undefined;
      return deps.panels.open({ runDir }).target;
    }),
    registerCommand(deps, 'sclab.compareRuns', async (a?: unknown, b?: unknown) => {
      const runDir = runDirOf(a) ?? (await deps.pickRun('Compare (1/2): first run'));
      if (!runDir) return undefined;
      const compareRunDir = runDirOf(b) ?? (await deps.pickRun('Compare (2/2): second run'));
      if (!compareRunDir) return undefined;
      if (compareRunDir === runDir) throw new SclabError('config', 'pick two different runs to compare');
      return deps.panels.open({ runDir, compareRunDir }).target;
    }),
    // from a CodeLens on a dataset line: the item in its run's results
    registerCommand(deps, 'sclab.openItem', (arg?: { runDir?: unknown; itemId?: unknown }) => {
      if (typeof arg?.runDir !== 'string' || typeof arg.itemId !== 'string') throw new SclabError('config', 'openItem needs { runDir, itemId }');
      return deps.panels.open({ runDir: arg.runDir }, arg.itemId).target;
    }),
  ];
}
