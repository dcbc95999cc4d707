import * as path from 'node:path';
import type { Backend } from '../core/backends/backend';
import { SclabError } from '../core/model/errors';
import type { BackendRef } from '../core/model/experiment';
import type { Item } from '../core/model/item';
import type { RunProgress } from '../core/runner/execute';
import type { ResumeRequest, SessionBackend, SessionHost, StartRequest } from '../core/runner/session';
import { refOf } from './backend-factory';
import type { BackendSetting, RunSettingsFromConfig } from './settings';

// The extension's side of a run session, free of `vscode` so that it is tested without VS Code: which backend a
// run uses, the start and resume requests, what a notification says, and which runs are active.

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

/** Builds a configured backend (the host resolves its key from SecretStorage). */
export type OpenBackend = (b: BackendSetting, opts: { requestTimeoutMs: number; signal: AbortSignal; concurrency?: number }) => Promise<Backend>;

export function sessionBackend(b: BackendSetting, open: OpenBackend): SessionBackend {
  return { ref: refOf(b), label: b.name, open: (opts) => open(b, opts) };
}

function isExperimentFile(file: string): boolean {
  return /\.sclab\.ya?ml$/i.test(file);
}

export function startRequest(input: StartInput, ctx: { outDir: string; backend: BackendSetting; settings: RunSettingsFromConfig; open: OpenBackend }): StartRequest {
  return {
    file: input.file,
    preset: input.preset,
    // an experiment file keeps its own rounds unless the caller chose some; datasets get sclab.defaultRounds
    rounds: input.rounds ?? (isExperimentFile(input.file) ? undefined : ctx.settings.defaultRounds),
    limit: input.limit,
    outDir: ctx.outDir,
    concurrency: ctx.settings.concurrency,
    requestTimeoutMs: ctx.settings.requestTimeoutMs,
    backend: () => sessionBackend(ctx.backend, ctx.open),
  };
}

/** Resume keeps the run's request deadline; concurrency and limits come from the current settings. */
export function resumeRequest(runDir: string, ctx: { backend: BackendSetting; settings: RunSettingsFromConfig; open: OpenBackend }): ResumeRequest {
  return {
    runDir,
    concurrency: ctx.settings.concurrency,
    maxRpm: ctx.backend.maxRpm,
    maxTpm: ctx.backend.maxTpm,
    backend: () => sessionBackend(ctx.backend, ctx.open),
  };
}

/**
 * The configured backend a run used (`recorded`: the core's `backendRefFromManifest`): same kind, model spec and URL;
 * its key is looked up under that name.
 */
export function backendForRun(recorded: BackendRef, configured: BackendSetting[], publicUrlOf: (url: string) => string): BackendSetting {
  const { kind, model, baseUrl } = recorded;
  // the manifest keeps only the public form of a URL (no credentials)
  const match = configured.find((b) => b.kind === kind && (b.model ?? '') === (model ?? '') && (b.baseUrl !== undefined ? publicUrlOf(b.baseUrl) : '') === (baseUrl ?? ''));
  if (match) return match;
  if (kind === 'embedded') return { name: `embedded (${model})`, kind, ...(model ? { model } : {}) };
  throw new SclabError('config', `no backend in sclab.backends matches this run's ${kind} backend (${baseUrl ?? ''} ${model ?? ''}); add it with Configure Backend…`);
}

/** What the extension does with a session's events: log, SecretStorage keys, the run's progress. */
export function extensionSessionHost(
  run: ActiveRun,
  deps: {
    secrets: SessionHost['secrets'];
    baseDir: string;
    log: { info(message: string): void; warn(message: string): void };
    report: (message: string) => void;
    changed: () => void;
    /** the core's summary writer (summary.json), loaded with the rest of the core */
    afterComplete: (runDir: string, items?: readonly Item[]) => Promise<void>;
  },
): SessionHost {
  return {
    signal: run.controller.signal,
    secrets: deps.secrets,
    baseDir: deps.baseDir,
    onWarnings: (warnings) => {
      for (const w of warnings.slice(0, 20)) deps.log.warn(w);
    },
    onNote: (note) => deps.log.warn(note),
    onStage: deps.report,
    onStart: (runDir) => {
      run.runDir = runDir;
      deps.log.info(`run started: ${runDir}`);
      deps.changed();
    },
    onProgress: (p) => {
      run.progress = p;
      deps.changed();
    },
    afterComplete: deps.afterComplete,
  };
}

/** The notification's line while a run goes. */
export function progressMessage(p: RunProgress): string {
  const r = p.requests;
  const requests = r ? ` · in flight ${r.inFlight}/${r.limit}, ${r.rpm} rpm` : '';
  return `${p.recorded}/${p.planned} records${p.errors ? `, ${p.errors} errors` : ''}${requests}`;
}

/** The runs in flight; a run is registered before the first await so that a second click on Resume is refused. */
export class ActiveRuns {
  private readonly runs = new Set<ActiveRun>();

  constructor(private readonly changed: (activeCount: number) => void) {}

  list(): ActiveRun[] {
    return [...this.runs];
  }

  isActive(runDir: string): boolean {
    return this.list().some((r) => r.runDir !== undefined && path.resolve(r.runDir) === path.resolve(runDir));
  }

  begin(label: string, runDir?: string): ActiveRun {
    const run: ActiveRun = { label, controller: new AbortController(), ...(runDir ? { runDir } : {}) };
    this.runs.add(run);
    this.changed(this.runs.size);
    return run;
  }

  end(run: ActiveRun): void {
    this.runs.delete(run);
    this.changed(this.runs.size);
  }

  /** Cancels the run in `runDir`, or every run; returns how many were asked to stop. */
  cancel(runDir?: string): number {
    const targets = this.list().filter((r) => !runDir || (r.runDir && path.resolve(r.runDir) === path.resolve(runDir)));
    for (const r of targets) r.controller.abort();
    return targets.length;
  }
}
