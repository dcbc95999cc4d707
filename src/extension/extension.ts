import * as vscode from 'vscode';
import { registerValidateDataset } from './validate-dataset';

/** Composition root: a short list of register…() calls, each returning its disposables. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Self-Correction Lab', { log: true });
  context.subscriptions.push(log, ...registerValidateDataset({ log }));
}

export function deactivate(): void {}
