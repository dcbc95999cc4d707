import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import type { ViewerPage } from '../core/viewer/protocol';
import { registerCommand, type CommandDeps } from './command';
import type { ResultsPanels } from './results-panel';
import { runDirOf } from './runs-tree';

export interface ResultsCommandDeps extends CommandDeps {
  panels: ResultsPanels;
  pickRun: (title: string) => Promise<string | undefined>;
}

// typed against the protocol's pages (a value import would pull zod into the activation bundle)
const PAGES: Record<ViewerPage, true> = { overview: true, ranks: true, probes: true, instructions: true, causal: true, samples: true, compare: true };

function pageOf(arg: unknown): ViewerPage | undefined {
  const page = (arg as { page?: unknown } | null | undefined)?.page;
  return typeof page === 'string' && Object.hasOwn(PAGES, page) ? (page as ViewerPage) : undefined;
}

export function registerResultsCommands(deps: ResultsCommandDeps): vscode.Disposable[] {
  return [
    // a run (tree node, folder) or { page } from the walkthrough's "Open the Ranks page"
    registerCommand(deps, 'sclab.openResults', async (arg?: unknown) => {
      const page = pageOf(arg);
      const runDir = runDirOf(arg) ?? (await deps.pickRun(page ? `Open the ${page} page of which run?` : 'Open the results of which run?'));
      if (!runDir) return undefined;
      return deps.panels.open({ runDir }, undefined, page).target;
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
