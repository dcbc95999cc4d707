import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunProgress } from '../core/runner/execute';
import type { RunResult } from '../core/runner/run';
import { SclabError } from '../core/model/errors';
import type { Experiment } from '../core/model/experiment';
import type { RunManifest } from '../core/model/manifest';
import { createBackendFor, namingBackend, refOf, type BackendFactoryDeps } from './backend-factory';
import { roundExtensionsFor } from './round-extensions';
import { backendByName, defaultBackend, readBackends, readRunSettings, runsFolder, workspaceRoot, type BackendSetting } from './settings';
import { core } from './load-core';

export interface StartInput {
  /** a dataset or an experiment file */
  file: string;
  preset?: string;
  /** a name from sclab.backends; default: sclab.defaultBackend */
  backend?: string;
  rounds?: number;
  limit?: number;
}

export interface ActiveRun {
  runDir?: string;
  label: string;
  progress?: RunProgress;
  readonly controller: AbortController;
}

export interface RunManagerDeps extends Omit<BackendFactoryDeps, 'baseDir'> {
  log: vscode.LogOutputChannel;
}

function isExperimentFile(file: string): boolean {
  return /\.sclab\.ya?ml$/i.test(file);
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
  private readonly active = new Set<ActiveRun>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: RunManagerDeps) {}

  list(): ActiveRun[] {
    return [...this.active];
  }

  isActive(runDir: string): boolean {
    return this.list().some((r) => r.runDir !== undefined && path.resolve(r.runDir) === path.resolve(runDir));
  }

  cancel(runDir?: string): number {
    const targets = this.list().filter((r) => !runDir || (r.runDir && path.resolve(r.runDir) === path.resolve(runDir)));
    for (const r of targets) r.controller.abort();
    return targets.length;
  }

  async start(input: StartInput): Promise<RunResult> {
    requireTrust();
    const outDir = requireRunsFolder();
    const backendSetting = input.backend ? backendByName(input.backend) : defaultBackend();
    if (!backendSetting) throw new SclabError('config', `no backend named "${input.backend}" in sclab.backends (have: ${readBackends().map((b) => b.name).join(', ') || 'none'})`);
    const settings = readRunSettings();
    return this.track(this.begin(`${path.basename(input.file)} on ${backendSetting.name}`), backendSetting, async (run, signal, report) => {
      const { prepareExperiment } = await core();
      const { startRun } = await core();
      report('reading the dataset');
      // an experiment file keeps its own rounds unless the caller chose some; datasets get sclab.defaultRounds
      const rounds = input.rounds ?? (isExperimentFile(input.file) ? undefined : settings.defaultRounds);
      const prepared = await prepareExperiment({ file: input.file, preset: input.preset, rounds, limit: input.limit, signal });
      for (const w of prepared.warnings.slice(0, 20)) this.deps.log.warn(w);
      report(`loading ${backendSetting.name}`);
      const backend = await createBackendFor(backendSetting, { ...this.deps, baseDir: workspaceRoot() }, { requestTimeoutMs: settings.requestTimeoutMs, signal });
      const extensions = this.extensionsFor(prepared.experiment);
      try {
        return await startRun({
          outDir,
          experiment: { ...prepared.experiment, backend: refOf(backendSetting) },
          dataset: prepared.dataset,
          items: prepared.items,
          backend,
          settings: {
            concurrency: settings.concurrency,
            maxRpm: backendSetting.maxRpm,
            maxTpm: backendSetting.maxTpm,
            requestTimeoutMs: settings.requestTimeoutMs,
            cacheDir: path.join(path.dirname(outDir), 'cache'),
          },
          signal,
          extensions: extensions.build,
          onStart: (runDir) => {
            run.runDir = runDir;
            this.deps.log.info(`run started: ${runDir}`);
            this.changed.fire();
          },
          onProgress: (p) => this.progress(run, p),
        });
      } finally {
        await extensions.close();
        await backend.close();
      }
    });
  }

  private extensionsFor(exp: Experiment) {
    return roundExtensionsFor(exp, { keys: this.deps.keys, baseDir: workspaceRoot() ?? process.cwd(), onNote: (n) => this.deps.log.warn(n) });
  }

  /** Finishes a cancelled, failed or killed run without redoing its recorded lines. */
  async resume(runDir: string): Promise<RunResult> {
    requireTrust();
    if (this.isActive(runDir)) throw new SclabError('config', `${runDir} is running already`);
    // marked active before the first await: a second Resume clicked meanwhile is refused above
    const run = this.begin(`resume ${path.basename(runDir)}`, runDir);
    let manifest: RunManifest;
    let backendSetting: BackendSetting;
    try {
      const { readManifest, publicUrlOf } = await core();
      manifest = await readManifest(runDir);
      backendSetting = backendForManifest(manifest, publicUrlOf);
      run.label = `resume ${manifest.id}`;
    } catch (err) {
      this.end(run);
      throw err;
    }
    const settings = readRunSettings();
    return this.track(run, backendSetting, async (run, signal, report) => {
      const { loadDataset, applyFilter } = await core();
      const { checkDatasetUnchanged, resumeRun } = await core();
      report('reading the dataset');
      const loaded = await loadDataset(manifest.dataset.path, { format: manifest.dataset.format as never, signal });
      checkDatasetUnchanged(manifest, loaded.sha256);
      const items = applyFilter(loaded.items, manifest.experiment.dataset.filter, manifest.experiment.dataset.limit);
      report(`loading ${backendSetting.name}`);
      const backend = await createBackendFor(backendSetting, { ...this.deps, baseDir: workspaceRoot() }, { requestTimeoutMs: manifest.settings.requestTimeoutMs, signal });
      const extensions = this.extensionsFor(manifest.experiment);
      try {
        return await resumeRun({
          runDir,
          items,
          backend,
          cacheDir: path.join(path.dirname(path.dirname(runDir)), 'cache'),
          settings: { concurrency: settings.concurrency, maxRpm: backendSetting.maxRpm, maxTpm: backendSetting.maxTpm },
          signal,
          extensions: extensions.build,
          onProgress: (p) => this.progress(run, p),
        });
      } finally {
        await extensions.close();
        await backend.close();
      }
    });
  }

  private progress(run: ActiveRun, p: RunProgress): void {
    run.progress = p;
    this.changed.fire();
  }

  /** Registers a run as active, synchronously (no await before it may pass). */
  private begin(label: string, runDir?: string): ActiveRun {
    const run: ActiveRun = { label, controller: new AbortController(), ...(runDir ? { runDir } : {}) };
    this.active.add(run);
    void vscode.commands.executeCommand('setContext', 'sclab.runActive', true);
    this.changed.fire();
    return run;
  }

  private end(run: ActiveRun): void {
    this.active.delete(run);
    void vscode.commands.executeCommand('setContext', 'sclab.runActive', this.active.size > 0);
    this.changed.fire();
  }

  private async track(run: ActiveRun, backend: BackendSetting, body: (run: ActiveRun, signal: AbortSignal, report: (message: string) => void) => Promise<RunResult>): Promise<RunResult> {
    const { label } = run;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Self-Correction Lab: ${label}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.controller.abort());
          let lastPct = 0;
          const sub = this.onDidChange(() => {
            const p = run.progress;
            if (!p || p.planned === 0) return;
            const pct = Math.floor((100 * p.recorded) / p.planned);
            const r = p.requests;
            const requests = r ? ` · in flight ${r.inFlight}/${r.limit}, ${r.rpm} rpm` : '';
            progress.report({ message: `${p.recorded}/${p.planned} records${p.errors ? `, ${p.errors} errors` : ''}${requests}`, increment: pct - lastPct });
            lastPct = pct;
          });
          try {
            return await body(run, run.controller.signal, (message) => progress.report({ message }));
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
      this.end(run);
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
      const picked = await vscode.window.showErrorMessage(`${text} ${r.error?.message ?? ''}`, 'Resume', 'Open Log');
      if (picked === 'Resume') await vscode.commands.executeCommand('sclab.resumeRun', r.runDir);
      if (picked === 'Open Log') this.deps.log.show(true);
    }
  }

  dispose(): void {
    this.cancel();
    this.changed.dispose();
  }
}

/** The configured backend a run used: same kind, model spec and URL (its key is looked up under that name). */
function backendForManifest(m: RunManifest, publicUrlOf: (url: string) => string): BackendSetting {
  const ref = m.experiment.backend;
  const kind = ref?.kind ?? m.backend.kind;
  const model = ref?.model ?? m.backend.model;
  const baseUrl = ref?.baseUrl ?? m.backend.baseUrl;
  // the manifest keeps only the public form of a URL (no credentials)
  const match = readBackends().find((b) => b.kind === kind && (b.model ?? '') === (model ?? '') && (b.baseUrl !== undefined ? publicUrlOf(b.baseUrl) : '') === (baseUrl ?? ''));
  if (match) return match;
  if (kind === 'embedded') return { name: `embedded (${model})`, kind, ...(model ? { model } : {}) };
  throw new SclabError('config', `no backend in sclab.backends matches this run's ${kind} backend (${baseUrl ?? ''} ${model ?? ''}); add it with Configure Backend…`);
}
