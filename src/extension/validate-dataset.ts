import * as vscode from 'vscode';
import { validateDataset } from '../core/datasets';
import type { Diagnostic } from '../core/model/item';

/** "Validate Dataset": the core's diagnostics, shown in the Problems panel at their file:line:column. */
export function registerValidateDataset(deps: { log: vscode.LogOutputChannel }): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection('sclab');
  const command = vscode.commands.registerCommand('sclab.validateDataset', async (uri?: vscode.Uri) => {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') {
      void vscode.window.showErrorMessage('Self-Correction Lab: open or select a dataset file to validate.');
      return;
    }
    try {
      const report = await validateDataset(target.fsPath);
      collection.set(target, report.diagnostics.map(toVscode));
      const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
      const summary = `${report.format ?? 'unknown format'}: ${report.items} items, ${errors} errors, ${report.diagnostics.length - errors} warnings`;
      deps.log.info(`validate ${target.fsPath}: ${summary}`);
      void (errors > 0 ? vscode.window.showWarningMessage(`Dataset has problems — ${summary}`) : vscode.window.showInformationMessage(`Dataset OK — ${summary}`));
    } catch (err) {
      deps.log.error(`validate ${target.fsPath}: ${String(err)}`);
      void vscode.window.showErrorMessage(`Self-Correction Lab: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return [collection, command];
}

function toVscode(d: Diagnostic): vscode.Diagnostic {
  const pos = new vscode.Position(Math.max(0, d.line - 1), Math.max(0, d.column - 1));
  const diag = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diag.source = 'sclab';
  return diag;
}
