import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Diagnostic } from '../core/model/item';
import { SclabError } from '../core/model/errors';
import { registerCommand, type CommandDeps } from './command';
import { core } from './load-core';

/** "Validate Dataset": the core's diagnostics, shown in the Problems panel at their file:line:column. */
export function registerValidateDataset(deps: CommandDeps & { distDir: string }): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection('sclab');
  const command = registerCommand(deps, 'sclab.validateDataset', async (uri?: vscode.Uri) => {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') throw new SclabError('config', 'open or select a dataset file to validate');
    const { validateDatasetOffThread } = await core();
    // in a worker thread: a huge or hostile file must not block the extension host
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Validating ${path.basename(target.fsPath)}`, cancellable: true },
      (_progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return validateDatasetOffThread(target.fsPath, { signal: controller.signal, workerPath: path.join(deps.distDir, 'dataset-worker.js') });
      },
    );
    collection.set(target, report.diagnostics.map(toVscode));
    const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
    const summary = `${report.format ?? 'unknown format'}: ${report.items} items, ${errors} errors, ${report.diagnostics.length - errors} warnings`;
    deps.log.info(`validate ${target.fsPath}: ${summary}`);
    void (errors > 0 ? vscode.window.showWarningMessage(`Dataset has problems — ${summary}`) : vscode.window.showInformationMessage(`Dataset OK — ${summary}`));
    return { format: report.format, items: report.items, errors, warnings: report.diagnostics.length - errors };
  });
  return [collection, command];
}

function toVscode(d: Diagnostic): vscode.Diagnostic {
  const pos = new vscode.Position(Math.max(0, d.line - 1), Math.max(0, d.column - 1));
  const diag = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diag.source = 'sclab';
  return diag;
}
