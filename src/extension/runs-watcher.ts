import * as vscode from 'vscode';
import { runsFolder } from './settings';

/** Calls `onChange` when a run folder's manifest appears, changes or goes (the CLI may write runs too). */
export function watchRunsFolder(onChange: () => void): vscode.Disposable[] {
  let watcher: vscode.FileSystemWatcher | undefined;
  const make = () => {
    watcher?.dispose();
    const dir = runsFolder();
    if (!dir) return;
    watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), `*/{manifest.json,summary.json}`));
    watcher.onDidCreate(onChange);
    watcher.onDidChange(onChange);
    watcher.onDidDelete(onChange);
  };
  make();
  return [
    { dispose: () => watcher?.dispose() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('sclab.runsFolder')) {
        make();
        onChange();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      make();
      onChange();
    }),
  ];
}

