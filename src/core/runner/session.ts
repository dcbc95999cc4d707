import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backend, SecretProvider } from '../backends/backend';
import { applyFilter, loadDataset } from '../datasets';
import { DATASET_FORMATS, type DatasetFormat } from '../datasets/types';
import { isSclabError, SclabError } from '../model/errors';
import type { BackendRef, Experiment } from '../model/experiment';
import type { BackendDescription, RunManifest } from '../model/manifest';
import type { Item } from '../model/item';
import type { RunProgress } from './execute';
import { discardStaged, stageExperiment } from './prepare';
import { roundExtensionsFor, type RoundExtensionSet } from './round-extensions';
import { checkDatasetUnchanged, resumeRun, startRun, type RunResult } from './run';
import { ITEMS_FILE, readManifest } from './store';
import { sha256File } from '../engine/hf/hash';
import { responseCacheDir } from './backend-ref';

export { backendRefFromManifest, responseCacheDir } from './backend-ref';

/** The backend a host chose for a run: what the run records about it, and how to build it (secrets stay in the host). */
export interface SessionBackend {
  /** recorded in the experiment: kind, model, URL, limits; never a secret */
  ref: BackendRef;
  /** a name for progress messages */
  label: string;
  /** concurrency: the run's requests in flight (the embedded engine sizes its worker pool by it) */
  open(opts: { requestTimeoutMs: number; signal: AbortSignal; concurrency: number }): Promise<Backend>;
}

/** What differs between hosts: where secrets come from and how progress is shown. */
export interface SessionHost {
  signal: AbortSignal;
  /** scorer keys, by the scorer's apiKeyEnv name */
  secrets: SecretProvider;
  /** relative probe and scorer paths resolve against it */
  baseDir: string;
  /** the dataset reader's warnings (errors abort before anything runs) */
  onWarnings?(warnings: string[]): void;
  /** a scorer's note (e.g. what it rests on), once per run */
  onNote?(note: string): void;
  /** what the session is doing before the first request */
  onStage?(message: string): void;
  onStart?(runDir: string): void;
  onProgress?(p: RunProgress): void;
  /**
   * summary.json of a completed run: the full analysis (what `sclab report --json` recomputes at any time), stamped
   * with the files it came from so the viewer opens a finished run without analysing it again; `items` when the run
   * held them, else the analysis reads items.jsonl
   */
  afterComplete?(runDir: string, items?: readonly Item[]): Promise<void>;
}

export interface StartRequest {
  /** a dataset or an experiment file */
  file: string;
  preset?: string;
  rounds?: number;
  limit?: number;
  /** the folder that receives the run folder */
  outDir: string;
  concurrency: number;
  requestTimeoutMs: number;
  /** the response cache; undefined: the one rule (`responseCacheDir`), null: none */
  cacheDir?: string | null;
  /** the host's backend for this experiment (which may name one of its own) */
  backend(experiment: Experiment): SessionBackend;
  /** the host's last word on the prepared experiment, before the backend is chosen (the demo adds its trained probe) */
  adjust?(experiment: Experiment, signal: AbortSignal): Promise<Experiment>;
}

export interface ResumeRequest {
  runDir: string;
  /** settings that do not change the science may differ on resume; undefined keeps the manifest's */
  concurrency?: number;
  maxRpm?: number;
  maxTpm?: number;
  requestTimeoutMs?: number;
  /** the response cache; undefined: the one rule (`responseCacheDir`), null: none */
  cacheDir?: string | null;
  /** the host's backend for the run's recorded one (see `backendRefFromManifest`) */
  backend(manifest: RunManifest): SessionBackend;
}

/** The format the run read its dataset as (a manifest is input too: an unknown word is an error, not a guess). */
function recordedFormat(m: RunManifest, runDir: string): DatasetFormat {
  const format = DATASET_FORMATS.find((f) => f === m.dataset.format);
  if (!format) throw new SclabError('config', `${path.join(runDir, 'manifest.json')}: dataset.format "${m.dataset.format}" is not one of ${DATASET_FORMATS.join(', ')}`);
  return format;
}

const cacheFor = (given: string | null | undefined, runsFolder: string) => (given === undefined ? responseCacheDir(runsFolder) : given);

/**
 * One run from a host's request to its result: prepares the experiment (or re-reads and checks the dataset on
 * resume), builds the backend and the experiment's probes and scorers, runs, and closes what it built. Both hosts
 * (CLI, extension) call it and differ only in their `SessionHost`. `await using` closes it, or `close()`.
 */
export class RunSession implements AsyncDisposable {
  private backend: Backend | undefined;
  private extensions: RoundExtensionSet | undefined;

  constructor(private readonly host: SessionHost) {}

  async start(req: StartRequest): Promise<RunResult> {
    const { host } = this;
    host.onStage?.('reading the dataset');
    // the items go to a file as they are read, which the run folder takes over: the run never holds its dataset
    const prepared = await stageExperiment({ file: req.file, preset: req.preset, rounds: req.rounds, limit: req.limit, signal: host.signal });
    try {
      return await this.startStaged(req, prepared);
    } finally {
      await discardStaged(prepared.items);
    }
  }

  private async startStaged(req: StartRequest, prepared: Awaited<ReturnType<typeof stageExperiment>>): Promise<RunResult> {
    const { host } = this;
    if (prepared.warnings.length > 0) host.onWarnings?.(prepared.warnings);
    const adjusted = req.adjust ? await req.adjust(prepared.experiment, host.signal) : prepared.experiment;
    const chosen = req.backend(adjusted);
    const experiment = { ...adjusted, backend: chosen.ref };
    const backend = await this.openBackend(chosen, req.requestTimeoutMs, req.concurrency);
    return startRun({
      outDir: req.outDir,
      experiment,
      dataset: prepared.dataset,
      items: prepared.items,
      backend,
      settings: {
        concurrency: req.concurrency,
        maxRpm: chosen.ref.maxRpm,
        maxTpm: chosen.ref.maxTpm,
        requestTimeoutMs: req.requestTimeoutMs,
        cacheDir: cacheFor(req.cacheDir, req.outDir),
      },
      signal: host.signal,
      extensions: this.extensionsFor(experiment),
      onStart: (runDir) => host.onStart?.(runDir),
      onProgress: (p) => host.onProgress?.(p),
      afterComplete: async (runDir, items) => host.afterComplete?.(runDir, items),
    });
  }

  /** Finishes a cancelled, failed or killed run without redoing its recorded lines. */
  async resume(req: ResumeRequest): Promise<RunResult> {
    const { host } = this;
    const manifest = await readManifest(req.runDir);
    const chosen = req.backend(manifest);
    host.onStage?.('reading the dataset');
    const items = await this.resumeItems(manifest, req.runDir);
    const backend = await this.openBackend(chosen, req.requestTimeoutMs ?? manifest.settings.requestTimeoutMs, req.concurrency ?? manifest.settings.concurrency);
    return resumeRun({
      runDir: req.runDir,
      ...(items ? { items } : {}),
      backend,
      cacheDir: cacheFor(req.cacheDir, path.dirname(path.resolve(req.runDir))),
      settings: { concurrency: req.concurrency, maxRpm: req.maxRpm, maxTpm: req.maxTpm, requestTimeoutMs: req.requestTimeoutMs },
      signal: host.signal,
      extensions: this.extensionsFor(manifest.experiment),
      onProgress: (p) => host.onProgress?.(p),
      afterComplete: async (runDir, items) => host.afterComplete?.(runDir, items),
    });
  }

  /**
   * The dataset is checked unchanged by its hash alone, streaming: the run's planned items are its items.jsonl, which
   * the run reads on demand (undefined here), so a resumed run holds no more of the dataset than a new one. A run
   * folder without items.jsonl (written before it existed) plans from the dataset, read whole as before.
   */
  private async resumeItems(manifest: RunManifest, runDir: string): Promise<Item[] | undefined> {
    const { signal } = this.host;
    const hasItems = await fs.stat(path.join(runDir, ITEMS_FILE)).then((st) => st.isFile(), () => false);
    if (hasItems) {
      const sha256 = await sha256File(manifest.dataset.path, signal).catch((err: unknown) => {
        throw isSclabError(err) && err.code === 'io' ? new SclabError('dataset', `${manifest.dataset.path}: cannot read the run's dataset to check it is unchanged (${err.message})`) : err;
      });
      checkDatasetUnchanged(manifest, sha256);
      return undefined;
    }
    const loaded = await loadDataset(manifest.dataset.path, { format: recordedFormat(manifest, runDir), signal });
    checkDatasetUnchanged(manifest, loaded.sha256);
    return applyFilter(loaded.items, manifest.experiment.dataset.filter, manifest.experiment.dataset.limit);
  }

  private async openBackend(chosen: SessionBackend, requestTimeoutMs: number, concurrency: number): Promise<Backend> {
    this.host.onStage?.(`loading ${chosen.label}`);
    this.backend = await chosen.open({ requestTimeoutMs, signal: this.host.signal, concurrency });
    return this.backend;
  }

  private extensionsFor(experiment: Experiment) {
    const { baseDir, secrets, onNote } = this.host;
    const set = roundExtensionsFor(experiment, { baseDir, secrets, ...(onNote ? { onNote: (n: string) => onNote(n) } : {}) });
    this.extensions = set;
    return (description: BackendDescription) => set.build(description);
  }

  /** Closes the probes and scorers, then the backend (a worker, connections). */
  async close(): Promise<void> {
    const { extensions, backend } = this;
    this.extensions = undefined;
    this.backend = undefined;
    try {
      await extensions?.close();
    } finally {
      await backend?.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Runs one start or resume request in a session that is closed however the run ends. */
export async function runSession(request: { start: StartRequest } | { resume: ResumeRequest }, host: SessionHost): Promise<RunResult> {
  const session = new RunSession(host);
  try {
    return 'start' in request ? await session.start(request.start) : await session.resume(request.resume);
  } finally {
    await session.close();
  }
}
