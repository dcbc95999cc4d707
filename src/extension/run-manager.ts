import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunResult } from '../core/runner/run';
import type { ResumeRequest } from '../core/runner/session';
import { messageIn, SclabError } from '../core/model/errors';
import { EXTENSION_REMEDY_WORDS } from './remedy-words';
import { createBackendFor, namingBackend, type BackendFactoryDeps } from './backend-factory';
import { ActiveRuns, backendForRun, extensionSessionHost, progressMessage, resumeRequest, startRequest, type ActiveRun, type OpenBackend, type StartInput } from './run-requests';
import { backendByName, defaultBackend, readBackends, readRunSettings, runsFolder, workspaceRoot, type BackendSetting } from './settings';
import { core } from './load-core';

export type { ActiveRun, StartInput } from './run-requests';

export interface RunManagerDeps extends Omit<BackendFactoryDeps, 'baseDir'> {
  log: vscode.LogOutputChannel;
}

export function requireTrust(): void {
  if (!vscode.workspace.isTrusted) {
    throw new SclabError('config', 'this workspace is not trusted: nothing runs here. Trust the workspace (Manage Workspace Trust) to run experiments.');
  }
}

function requireRunsFolder(): string {
  const dir = runsFolder();
  if (!dir) throw new SclabError('config', 'open a folder first: runs are written to its .sclab/runs (setting sclab.runsFolder)');
  return dir;
}

/**
 * Runs experiments through the core, one notification with a Cancel button each. Runs live here, not in any panel,
 * so closing the results panel never stops one.
 */
export class RunManager implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly active = new ActiveRuns((count) => {
    void vscode.commands.executeCommand('setContext', 'sclab.runActive', count > 0);
    this.changed.fire();
  });

  constructor(private readonly deps: RunManagerDeps) {}

  list(): ActiveRun[] {
    return this.active.list();
  }

  isActive(runDir: string): boolean {
    return this.active.isActive(runDir);
  }

  cancel(runDir?: string): number {
    return this.active.cancel(runDir);
  }

  async start(input: StartInput): Promise<RunResult> {
    requireTrust();
    const outDir = requireRunsFolder();
    const backend = input.backend ? backendByName(input.backend) : defaultBackend();
    if (!backend) throw new SclabError('config', `no backend named "${input.backend}" in sclab.backends (have: ${readBackends().map((b) => b.name).join(', ') || 'none'})`);
    const request = startRequest(input, { outDir, backend, settings: readRunSettings(), open: this.open });
    return this.track(this.active.begin(`${path.basename(input.file)} on ${backend.name}`), backend, async (run, report) => (await core()).runSession({ start: request }, this.host(run, report)));
  }

  /** Finishes a cancelled, failed or killed run without redoing its recorded lines. */
  async resume(runDir: string): Promise<RunResult> {
    requireTrust();
    if (this.isActive(runDir)) throw new SclabError('config', `${runDir} is running already`);
    // marked active before the first await: a second Resume clicked meanwhile is refused above
    const run = this.active.begin(`resume ${path.basename(runDir)}`, runDir);
    let request: ResumeRequest;
    let backend: BackendSetting;
    try {
      const { readManifest, backendRefFromManifest, publicUrlOf } = await core();
      const manifest = await readManifest(runDir);
      backend = backendForRun(backendRefFromManifest(manifest), readBackends(), publicUrlOf);
      request = resumeRequest(runDir, { backend, settings: readRunSettings(), open: this.open });
      run.label = `resume ${manifest.id}`;
    } catch (err) {
      this.active.end(run);
      throw err;
    }
    return this.track(run, backend, async (run, report) => (await core()).runSession({ resume: request }, this.host(run, report)));
  }

  private readonly open: OpenBackend = (b, opts) => createBackendFor(b, { ...this.deps, baseDir: workspaceRoot() }, opts);

  private host(run: ActiveRun, report: (message: string) => void) {
    const { keys, log } = this.deps;
    return extensionSessionHost(run, { secrets: { get: async (name) => keys.getScorerKey(name) }, baseDir: workspaceRoot() ?? process.cwd(), log, report, changed: () => this.changed.fire(), afterComplete: async (runDir, items) => (await core()).writeViewerCache(runDir, {}, items) });
  }

  /** Shows a run in a notification with a Cancel button until it ends, then announces how it ended. */
  private async track(run: ActiveRun, backend: BackendSetting, body: (run: ActiveRun, report: (message: string) => void) => Promise<RunResult>): Promise<RunResult> {
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Self-Correction Lab: ${run.label}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.controller.abort());
          let lastPct = 0;
          const sub = this.onDidChange(() => {
            const p = run.progress;
            if (!p || p.planned === 0) return;
            const pct = Math.floor((100 * p.recorded) / p.planned);
            progress.report({ message: progressMessage(p), increment: pct - lastPct });
            lastPct = pct;
          });
          try {
            return await body(run, (message) => progress.report({ message }));
          } finally {
            sub.dispose();
          }
        },
      );
      this.deps.log.info(`run ${result.status}: ${result.runDir} (${result.manifest.counts.recorded}/${result.manifest.counts.planned} records, ${result.manifest.counts.errors} errors)`);
      void this.announce(result);
      return result;
    } catch (err) {
      throw namingBackend(err, backend);
    } finally {
      this.active.end(run);
    }
  }

  private async announce(r: RunResult): Promise<void> {
    const c = r.manifest.counts;
    const text = `Run ${path.basename(r.runDir)} ${r.status}: ${c.recorded}/${c.planned} records, ${c.errors} errors.`;
    if (r.status === 'completed') {
      if ((await vscode.window.showInformationMessage(text, 'Open Results')) === 'Open Results') await vscode.commands.executeCommand('sclab.openResults', r.runDir);
    } else if (r.status === 'cancelled') {
      if ((await vscode.window.showInformationMessage(text, 'Resume')) === 'Resume') await vscode.commands.executeCommand('sclab.resumeRun', r.runDir);
    } else {
      const picked = await vscode.window.showErrorMessage(`${text} ${r.error ? messageIn(r.error, EXTENSION_REMEDY_WORDS) : ''}`, 'Resume', 'Open Log');
      if (picked === 'Resume') await vscode.commands.executeCommand('sclab.resumeRun', r.runDir);
      if (picked === 'Open Log') this.deps.log.show(true);
    }
  }

  dispose(): void {
    this.cancel();
    this.changed.dispose();
  }
}
