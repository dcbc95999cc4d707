import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Backend } from '../backends/backend';
import { isSclabError, SclabError } from '../model/errors';
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { BackendDescription, RunManifest, RunStatus } from '../model/manifest';
import { TOOL_VERSION } from '../version';
import { ResponseCache } from './cache';
import { executeRun, type RunProgress } from './execute';
import { resolveRankMethod } from './ranking';
import { plannedRecordCount } from './plan';
import { scorerCardsOf, type RoundExtension } from './extensions';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
import { AdaptiveScheduler } from './scheduler';
import { collectAfterPhase } from './collect-garbage';
import { ItemFile } from './item-file';
import { ITEMS_FILE, RunStore, type ResumeState, type StagedItems } from './store';
import { publicExperiment } from './public-experiment';

export interface RunSettings {
  /** the most requests in flight (chat, option scoring, probes); the adaptive limit stays at or below it */
  concurrency: number;
  /** requests / tokens per minute the backend allows; requests wait for budget */
  maxRpm?: number;
  maxTpm?: number;
  /** false: keep `concurrency` in flight whatever the server answers (default: adaptive) */
  adaptive?: boolean;
  requestTimeoutMs: number;
  retry?: RetryPolicy;
  /** folder of the content-addressed response cache; null disables it */
  cacheDir: string | null;
}

export interface DatasetInfo {
  path: string;
  sha256: string;
  format: string;
}

export interface RunResult {
  runDir: string;
  status: RunStatus;
  manifest: RunManifest;
  progress: RunProgress;
  /** set when the run failed or was cancelled */
  error?: SclabError;
}

interface Common {
  backend: Backend;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /**
   * probes, scorers: work around each round besides generation; built once the backend is connected (probes check
   * the model the backend serves)
   */
  extensions?: (description: BackendDescription) => Promise<RoundExtension[]>;
  /**
   * derived files of a completed run, written by the host's analysis writer (summary.json: `writeViewerCache`); the
   * runner computes no metrics and knows no viewer
   */
  afterComplete?: (runDir: string, items?: readonly Item[]) => Promise<void>;
  /** called once the run folder exists, before the first request */
  onStart?: (runDir: string, manifest: RunManifest) => void;
}

export function newRunId(exp: Experiment, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = exp.name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40) || 'run';
  return `${stamp}-${name}-${randomBytes(2).toString('hex')}`;
}

/**
 * Starts a new run folder under `outDir` and runs it to the end (or to cancellation). `items`: the planned items, or
 * staged ones (`stageExperiment`), which the run folder takes over.
 */
export async function startRun(
  opts: Common & { outDir: string; experiment: Experiment; dataset: DatasetInfo; items: Item[] | StagedItems; settings: RunSettings; runId?: string },
): Promise<RunResult> {
  const description = await opts.backend.connect(opts.signal);
  // a bad probe or scorer fails here, before a run folder exists
  const extensions = opts.extensions ? await opts.extensions(description) : [];
  const rankMethod = resolveRankMethod(opts.experiment, description, opts.backend);
  const runId = opts.runId ?? newRunId(opts.experiment);
  const runDir = path.resolve(opts.outDir, runId);
  const now = new Date().toISOString();
  const retry = opts.settings.retry ?? DEFAULT_RETRY_POLICY;
  const manifest: RunManifest = {
    schema: 'sclab.run/1',
    id: runId,
    createdAt: now,
    updatedAt: now,
    toolVersion: TOOL_VERSION,
    status: 'running',
    // the public form only: a base URL with credentials must not reach the run folder
    experiment: publicExperiment(opts.experiment),
    dataset: { path: path.resolve(opts.dataset.path), sha256: opts.dataset.sha256, format: opts.dataset.format, items: opts.items.length },
    backend: description,
    settings: {
      concurrency: opts.settings.concurrency,
      ...(opts.settings.maxRpm !== undefined ? { maxRpm: opts.settings.maxRpm } : {}),
      ...(opts.settings.maxTpm !== undefined ? { maxTpm: opts.settings.maxTpm } : {}),
      ...(opts.settings.adaptive === false ? { adaptive: false } : {}),
      requestTimeoutMs: opts.settings.requestTimeoutMs,
      maxRetries: retry.maxRetries,
      cache: opts.settings.cacheDir !== null,
      rankMethod,
    },
    counts: { planned: plannedRecordCount(opts.items, opts.experiment), recorded: 0, errors: 0, cached: 0 },
    ...(scorerCardsOf(extensions) ? { scorers: scorerCardsOf(extensions) } : {}),
    resumes: [],
  };
  const store = await RunStore.create(runDir, manifest, opts.items);
  // from here the run reads its items from items.jsonl on demand (ItemFile): nothing below holds the dataset, so
  // the caller's copy can be collected and the run's memory does not grow with it
  let items: ItemFile;
  try {
    items = await ItemFile.open(runDir);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { items: _dataset, ...common } = opts;
  return drive({ store, opts: common, description, extensions, items, resume: undefined, cacheDir: opts.settings.cacheDir, retry });
}

/**
 * Finishes a cancelled, failed or killed run: recorded lines are kept and never asked for again. The caller checks
 * the dataset against the manifest (`checkDatasetUnchanged`) and builds the backend. `items`: the planned items, or
 * undefined to read them on demand from the run folder's items.jsonl (what the run planned), as a new run does.
 */
export async function resumeRun(
  opts: Common & { runDir: string; items?: Item[]; cacheDir: string | null; settings?: Partial<Pick<RunSettings, 'concurrency' | 'requestTimeoutMs' | 'maxRpm' | 'maxTpm'>> },
): Promise<RunResult> {
  const { store, resume } = await RunStore.open(opts.runDir);
  let items: Item[] | ItemFile | undefined;
  try {
    const description = await opts.backend.connect(opts.signal);
    const before = store.current.backend;
    if (before.kind !== description.kind || before.model !== description.model) {
      throw new SclabError('config', `this run used ${before.kind} model "${before.model}", but the backend now serves ${description.kind} model "${description.model}"`);
    }
    // a probe or scorer that cannot be loaded fails here, before the run is marked running again
    const extensions = opts.extensions ? await opts.extensions(description) : [];
    // a run folder whose items.jsonl lost items fails here too
    items = opts.items ?? (await plannedItems(opts.runDir, store.current));
    await store.updateManifest((m) => ({
      ...m,
      status: 'running',
      failure: undefined,
      resumes: [...m.resumes, new Date().toISOString()],
      scorers: scorerCardsOf(extensions) ?? m.scorers,
      settings: {
        ...m.settings,
        concurrency: opts.settings?.concurrency ?? m.settings.concurrency,
        ...(opts.settings?.maxRpm !== undefined ? { maxRpm: opts.settings.maxRpm } : {}),
        ...(opts.settings?.maxTpm !== undefined ? { maxTpm: opts.settings.maxTpm } : {}),
        requestTimeoutMs: opts.settings?.requestTimeoutMs ?? m.settings.requestTimeoutMs,
      },
    }));
    const m = store.current;
    const retry = { ...DEFAULT_RETRY_POLICY, maxRetries: m.settings.maxRetries };
    return await drive({
      store,
      opts: { ...opts, experiment: m.experiment, settings: { ...m.settings, cacheDir: opts.cacheDir } },
      description: before,
      extensions,
      items,
      resume,
      cacheDir: m.settings.cache ? opts.cacheDir : null,
      retry,
    });
  } catch (err) {
    // drive closes what it was given; before it, this does
    if (!store.closed) {
      if (items instanceof ItemFile) await items.close();
      await store.close();
    }
    throw err;
  }
}

/** The run folder's items.jsonl, read on demand; it must hold the items the manifest counted. */
async function plannedItems(runDir: string, m: RunManifest): Promise<ItemFile> {
  const items = await ItemFile.open(runDir);
  if (items.length !== m.dataset.items) {
    await items.close();
    throw new SclabError('io', `${path.join(runDir, ITEMS_FILE)} holds ${items.length} items, but the run planned ${m.dataset.items}; the run store was edited or corrupted`);
  }
  return items;
}

export function checkDatasetUnchanged(manifest: RunManifest, sha256: string): void {
  if (manifest.dataset.sha256 !== sha256) {
    throw new SclabError('config', `${manifest.dataset.path} changed since the run started (sha256 ${manifest.dataset.sha256.slice(0, 12)}… → ${sha256.slice(0, 12)}…); resuming would mix two datasets`);
  }
}

/** What `drive` needs: an open store, the run's settings, the connected backend and what resume found recorded. */
interface DriveInput {
  store: RunStore;
  opts: Common & { experiment: Experiment; settings: Omit<RunSettings, 'retry'> };
  description: BackendDescription;
  extensions: RoundExtension[];
  /** an ItemFile is closed when the run ends, and the analysis after it reads items.jsonl itself */
  items: Item[] | ItemFile;
  /** what a resumed run already recorded (compact: see ResumeState); never asked for again; undefined for a new run */
  resume: ResumeState | undefined;
  cacheDir: string | null;
  retry: RetryPolicy;
}

async function drive({ store, opts, description, extensions, items, resume, cacheDir, retry }: DriveInput): Promise<RunResult> {
  opts.onStart?.(store.runDir, store.current);
  let last: RunProgress = { planned: store.current.counts.planned, ...(resume?.counts ?? { recorded: 0, errors: 0, cached: 0 }) };
  // the manifest's counts are refreshed at most once a second; records.jsonl is the source of truth
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const onProgress = (p: RunProgress) => {
    last = p;
    opts.onProgress?.(p);
    const now = Date.now();
    if (now - lastWrite > 1000) {
      lastWrite = now;
      writing = writing.then(() => store.updateManifest((m) => ({ ...m, counts: { ...p } }))).catch(() => undefined);
    }
  };
  let status: RunStatus = 'completed';
  let error: SclabError | undefined;
  const { concurrency, maxRpm, maxTpm, adaptive } = opts.settings;
  const scheduler = new AdaptiveScheduler({ concurrency, maxRpm, maxTpm, adaptive }, { retry });
  try {
    last = await executeRun({
      experiment: opts.experiment,
      items,
      backend: opts.backend,
      description,
      concurrency: opts.settings.concurrency,
      requestTimeoutMs: opts.settings.requestTimeoutMs,
      retry,
      scheduler,
      cache: cacheDir ? new ResponseCache(cacheDir) : undefined,
      resume,
      extensions,
      append: (r) => store.append(r),
      onProgress,
      signal: opts.signal,
    });
  } catch (err) {
    error = isSclabError(err) ? err : new SclabError('internal', err instanceof Error ? err.message : String(err), { cause: err });
    status = error.code === 'cancelled' ? 'cancelled' : 'failed';
  } finally {
    if (items instanceof ItemFile) await items.close();
  }
  await writing;
  const backendNotes = await opts.backend.runNotes?.().catch(() => []) ?? [];
  // executeRun counts every line once it is in the file (and a resumed run's lines before it), so its last
  // progress is what records.jsonl holds
  const counts = { planned: last.planned, recorded: last.recorded, errors: last.errors, cached: last.cached };
  await store.updateManifest((m) => ({
    ...m,
    status,
    counts,
    // how many requests the server took over time, and what the backend has to say (cache reuse), next to what it reported on connect
    backend: { ...m.backend, notes: [...m.backend.notes, scheduler.summary(), ...backendNotes] },
    failure: status === 'failed' && error ? { code: error.code, message: error.message } : undefined,
  }));
  const manifest = store.current;
  await store.close();
  // the requests' garbage goes before the analysis reads the run (see collect-garbage.ts)
  if (status === 'completed' && opts.afterComplete) collectAfterPhase(counts.recorded);
  if (items instanceof ItemFile) {
    if (status === 'completed') await opts.afterComplete?.(store.runDir);
  } else if (status === 'completed') {
    // the run's items (those items.jsonl holds) go along, so the analysis need not read a second copy of them
    await opts.afterComplete?.(store.runDir, items);
  }
  return { runDir: store.runDir, status, manifest, progress: { ...last, ...counts }, error };
}
