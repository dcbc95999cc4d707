import * as vscode from 'vscode';
import type { RunManager } from './run-manager';

/** A status bar item while a run is active: progress, and a click cancels. */
export function registerRunStatusBar(runs: RunManager): vscode.Disposable[] {
  const item = vscode.window.createStatusBarItem('sclab.run', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Self-Correction Lab run';
  item.command = 'sclab.cancelRun';
  const update = () => {
    const active = runs.list();
    if (active.length === 0) {
      item.hide();
      return;
    }
    const planned = active.reduce((s, r) => s + (r.progress?.planned ?? 0), 0);
    const recorded = active.reduce((s, r) => s + (r.progress?.recorded ?? 0), 0);
    item.text = `$(beaker~spin) sclab ${planned ? `${recorded}/${planned}` : 'starting'}${active.length > 1 ? ` (${active.length} runs)` : ''}`;
    item.tooltip = `${active.map((r) => r.label).join('\n')}\nClick to cancel`;
    item.show();
  };
  return [item, runs.onDidChange(update)];
}
