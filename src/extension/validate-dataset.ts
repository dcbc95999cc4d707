import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Diagnostic } from '../core/model/item';
import { SclabError } from '../core/model/errors';
import { registerCommand, type CommandDeps } from './command';
import { core } from './load-core';

const EXPERIMENT_FILE = /\.sclab\.ya?ml$/i;

/**
 * An experiment file's problems (YAML, unknown keys with "did you mean", types, template slots) at their lines, from
 * the same parser a run uses; works without the YAML extension. The text is the editor's, saved or not.
 */
async function checkExperiment(collection: vscode.DiagnosticCollection, doc: vscode.TextDocument): Promise<{ errors: number; warnings: number }> {
  const { parseExperimentYaml } = await core();
  const { diagnostics } = parseExperimentYaml(doc.getText(), doc.uri.fsPath);
  collection.set(doc.uri, diagnostics.map(toVscode));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return { errors, warnings: diagnostics.length - errors };
}

/** "Validate Dataset": the core's diagnostics, shown in the Problems panel at their file:line:column. */
export function registerValidateDataset(deps: CommandDeps & { distDir: string }): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection('sclab');
  // experiment files are checked when opened and saved (the core loads on the first one, not at activation)
  const onExperiment = (doc: vscode.TextDocument) => {
    if (doc.uri.scheme === 'file' && EXPERIMENT_FILE.test(doc.uri.fsPath)) void checkExperiment(collection, doc).catch((err) => deps.log.warn(`checking ${doc.uri.fsPath}: ${String(err)}`));
  };
  const listeners = [vscode.workspace.onDidOpenTextDocument(onExperiment), vscode.workspace.onDidSaveTextDocument(onExperiment), vscode.workspace.onDidCloseTextDocument((doc) => EXPERIMENT_FILE.test(doc.uri.fsPath) && collection.delete(doc.uri))];
  const command = registerCommand(deps, 'sclab.validateDataset', async (uri?: vscode.Uri) => {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') throw new SclabError('config', 'open or select a dataset file to validate');
    if (EXPERIMENT_FILE.test(target.fsPath)) {
      const r = await checkExperiment(collection, await vscode.workspace.openTextDocument(target));
      const summary = `experiment file: ${r.errors} errors, ${r.warnings} warnings`;
      deps.log.info(`validate ${target.fsPath}: ${summary}`);
      void (r.errors > 0 ? vscode.window.showWarningMessage(`Experiment file has problems — ${summary} (see Problems)`) : vscode.window.showInformationMessage(`Experiment file OK — ${summary}`));
      return { format: 'sclab.experiment/1', items: 0, errors: r.errors, warnings: r.warnings };
    }
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
  return [collection, command, ...listeners];
}

function toVscode(d: Diagnostic): vscode.Diagnostic {
  const pos = new vscode.Position(Math.max(0, d.line - 1), Math.max(0, d.column - 1));
  const diag = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diag.source = 'sclab';
  return diag;
}
