import * as vscode from 'vscode';
import type { RunsTree } from './runs-tree';

/** After a reload: interrupted runs (running with no live lock) and cancelled ones are offered for resume. */
export async function offerResume(tree: RunsTree, log: vscode.LogOutputChannel): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  const resumable = (await tree.list()).filter((e) => e.interrupted || e.manifest.status === 'cancelled');
  if (resumable.length === 0) return;
  log.info(`resumable runs: ${resumable.map((e) => e.runDir).join(', ')}`);
  const first = resumable[0]!;
  const text =
    resumable.length === 1
      ? `Run ${first.manifest.id} stopped at ${first.manifest.counts.recorded}/${first.manifest.counts.planned} records. Resume it?`
      : `${resumable.length} runs stopped before finishing. Resume the latest (${first.manifest.id})?`;
  const picked = await vscode.window.showInformationMessage(text, 'Resume', 'Show Runs');
  if (picked === 'Resume') await vscode.commands.executeCommand('sclab.resumeRun', first.runDir);
  if (picked === 'Show Runs') await vscode.commands.executeCommand('sclab.runs.focus');
}
