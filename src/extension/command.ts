import * as vscode from 'vscode';
import { messageIn, type ErrorCode } from '../core/model/errors';
import { EXTENSION_REMEDY_WORDS } from './remedy-words';

export interface CommandDeps {
  log: vscode.LogOutputChannel;
}

/** What the user can do about an error of each code, besides reading the log. */
const ACTIONS: Partial<Record<ErrorCode, Array<{ title: string; command: string }>>> = {
  auth: [{ title: 'Set API Key…', command: 'sclab.setApiKey' }],
  config: [{ title: 'Configure Backend…', command: 'sclab.configureBackend' }],
  network: [{ title: 'Configure Backend…', command: 'sclab.configureBackend' }],
  model: [{ title: 'Configure Backend…', command: 'sclab.configureBackend' }],
  dataset: [{ title: 'Validate Dataset', command: 'sclab.validateDataset' }],
};

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Every command's failures look the same: logged with its stack, one message with what the user can do next. */
export async function reportError(deps: CommandDeps, commandId: string, err: unknown): Promise<void> {
  const code = codeOf(err);
  const message = messageIn(err, EXTENSION_REMEDY_WORDS);
  if (code === 'cancelled') {
    deps.log.info(`${commandId}: cancelled`);
    return;
  }
  deps.log.error(`${commandId} failed${code ? ` (${code})` : ''}: ${err instanceof Error && err.stack ? err.stack : message}`);
  const actions = ACTIONS[(code ?? '') as ErrorCode] ?? [];
  // the first line only: multi-line messages (dataset diagnostics) are in the log
  const firstLine = message.split('\n')[0] ?? message;
  const more = message.includes('\n') ? ' (details in the log)' : '';
  const picked = await vscode.window.showErrorMessage(`Self-Correction Lab: ${firstLine}${more}`, ...actions.map((a) => a.title), 'Open Log');
  if (picked === 'Open Log') deps.log.show(true);
  const action = actions.find((a) => a.title === picked);
  if (action) await vscode.commands.executeCommand(action.command);
}

/** registerCommand with the house error handling: the handler's result is returned, its errors reported. */
export function registerCommand<A extends unknown[], R>(deps: CommandDeps, id: string, handler: (...args: A) => Promise<R> | R): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: A): Promise<R | undefined> => {
    try {
      return await handler(...args);
    } catch (err) {
      void reportError(deps, id, err);
      return undefined;
    }
  });
}
