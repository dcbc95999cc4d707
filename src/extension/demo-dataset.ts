import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import { registerCommand, type CommandDeps } from './command';

export interface DemoDatasetDeps extends CommandDeps {
  extensionPath: string;
}

const DEMO = 'bbq-demo.jsonl';

/**
 * "Add the Demo Dataset": copies the packaged BBQ-format demo (16 items written for this tool) into the first
 * workspace folder, never over an existing file, and opens it; the walkthrough's "create a dataset" step.
 */
async function addDemoDataset(deps: DemoDatasetDeps): Promise<string> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') throw new SclabError('config', 'open a folder first: the demo dataset is copied into the workspace');
  const target = path.join(folder.uri.fsPath, DEMO);
  const exists = await fs.stat(target).then(() => true, () => false);
  if (!exists) await fs.copyFile(path.join(deps.extensionPath, 'examples', 'demo', DEMO), target);
  deps.log.info(`${exists ? 'opened the existing' : 'added the'} demo dataset ${target}`);
  await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
  return target;
}

export function registerDemoDataset(deps: DemoDatasetDeps): vscode.Disposable[] {
  return [registerCommand(deps, 'sclab.addDemoDataset', () => addDemoDataset(deps))];
}
