import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ItemOutcome } from './item-outcomes';
import type { RunsTree } from './runs-tree';
import { core } from './load-core';

/**
 * Results next to the data: in a dataset file with a finished run, each item's line shows its outcome per round;
 * clicking it opens that item in the results panel.
 */
export class ItemLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  /** run folder → outcomes, computed once per change of the runs folder */
  private cache = new Map<string, Promise<{ datasetPath: string; outcomes: ItemOutcome[] }>>();

  constructor(
    private readonly tree: RunsTree,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  invalidate(): void {
    this.cache.clear();
    this.changed.fire();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (doc.uri.scheme !== 'file') return [];
    const file = path.resolve(doc.uri.fsPath);
    const run = (await this.tree.list()).find((e) => e.manifest.status === 'completed' && path.resolve(e.manifest.dataset.path) === file);
    if (!run) return [];
    let pending = this.cache.get(run.runDir);
    if (!pending) {
      pending = core().then((m) => m.itemOutcomes(run.runDir));
      this.cache.set(run.runDir, pending);
    }
    try {
      const { outcomes } = await pending;
      return outcomes
        .filter((o) => o.line - 1 < doc.lineCount)
        .map((o) => {
          const title = [`$(beaker) ${o.condition}: ${o.answers}`, o.ranks, o.probe].filter(Boolean).join(' · ');
          return new vscode.CodeLens(doc.lineAt(o.line - 1).range, { title, tooltip: `Open ${o.itemId} in the results of ${run.manifest.id}`, command: 'sclab.openItem', arguments: [{ runDir: run.runDir, itemId: o.itemId }] });
        });
    } catch (err) {
      this.log.warn(`CodeLens for ${file}: ${err instanceof Error ? err.message : String(err)}`);
      this.cache.delete(run.runDir);
      return [];
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerItemLens(deps: { tree: RunsTree; log: vscode.LogOutputChannel }): { provider: ItemLensProvider; disposables: vscode.Disposable[] } {
  const provider = new ItemLensProvider(deps.tree, deps.log);
  const selector: vscode.DocumentSelector = [
    { scheme: 'file', pattern: '**/*.jsonl' },
    { scheme: 'file', pattern: '**/*.csv' },
    { scheme: 'file', pattern: '**/*.tsv' },
    { scheme: 'file', pattern: '**/*.txt' },
  ];
  return { provider, disposables: [provider, vscode.languages.registerCodeLensProvider(selector, provider)] };
}
