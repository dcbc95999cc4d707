import * as vscode from 'vscode';

/**
 * The questions commands ask the user, behind one object so that the extension tests can answer them (the test
 * host cannot type into a QuickPick). Production code always goes through `vscode.window`.
 */
export interface Prompts {
  pick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  input(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  confirm(message: string, action: string): Thenable<boolean>;
  saveTo(options: vscode.SaveDialogOptions): Thenable<vscode.Uri | undefined>;
  openFile(options: vscode.OpenDialogOptions): Thenable<vscode.Uri | undefined>;
}

export const windowPrompts: Prompts = {
  pick: (items, options) => vscode.window.showQuickPick(items, options),
  input: (options) => vscode.window.showInputBox(options),
  confirm: async (message, action) => (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action,
  saveTo: (options) => vscode.window.showSaveDialog(options),
  openFile: async (options) => (await vscode.window.showOpenDialog({ ...options, canSelectMany: false }))?.[0],
};

/** Holder the commands read at call time, so a test can swap the answers after activation. */
export class PromptsHolder {
  current: Prompts = windowPrompts;
}
