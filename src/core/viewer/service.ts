// The viewer's data service (Node: reads run folders). Every host creates one per open run and forwards the app's
// requests to `handle`. It answers from core/analysis: the overview from the full summary, cached in the run folder's
// summary.json (stamped with the records file it came from) so that a large run opens at once; records are read only
// when a page needs them (samples, one item, compare), slimmed for analysis, with an index of each item's lines in
// records.jsonl from which an item's page reads its whole records.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyzeRun, type AnalysisOptions, type FullSummary } from '../analysis/analyze';
import { compareRuns } from '../analysis/compare';
import { probeNames, resolveBands, type Band, type ProbeMeasure } from '../analysis/probes';
import { indexRun, type RunIndex } from '../analysis/runIndex';
import { SclabError } from '../model/errors';
import type { Item } from '../model/item';
import type { RunManifest } from '../model/manifest';
import type { RoundRecord } from '../model/record';
import type { RecordTable } from '../analysis/recordTable';
import { openRecordsAt, readAnalysisRecords, readRecordsAt, type ItemOffsets } from '../runner/analysis-records';
import { ITEMS_FILE, RECORDS_FILE, SUMMARY_FILE, readItems, readManifest, writeFileAtomic } from '../runner/store';
import { TOOL_VERSION } from '../version';
import { buildSampleIndex, causalFrom, instructionsFrom, itemDetail, overviewFrom, probesFrom, querySamples, ranksFrom, runInfo, type SampleIndex } from './pages';
import { errorResponse, parseAppMessage, safeParseAppMessage, type Method, type ParamsOf, type ResultOf, type ViewerHandlers, type ViewerRequest, type ViewerResponse } from './protocol';

export interface ViewerServiceOptions {
  runDir: string;
  /** a second run for the Compare page */
  compareRunDir?: string;
  /** the analysis settings (bootstrap, bands, measure); the cache is keyed by them */
  analysis?: AnalysisOptions;
  /** read and write the analysis cache in summary.json (default true) */
  cache?: boolean;
  /** the run's items when the host holds them (the run that just wrote items.jsonl): not read a second time */
  items?: readonly Item[];
}

export interface ViewerService {
  /** Answers one message from the app, validated here; never throws: failures come back as error responses. */
  handle(raw: unknown): Promise<ViewerResponse>;
  /**
   * Answers a request its host has already validated (safeParseAppMessage at the host's boundary, which must also route
   * commands), so no message is validated twice; never throws.
   */
  respond(request: ViewerRequest): Promise<ViewerResponse>;
  /** Typed direct call for hosts that build pages themselves (the static report); throws SclabError. */
  call<M extends Method>(method: M, params?: unknown): Promise<ResultOf[M]>;
  /** Forget what was read: the run folder changed (new records, a resume). */
  invalidate(): void;
}

/** What stamps a cached summary: it is used only while all of these are unchanged. */
interface CacheStamp {
  cache: 'sclab.viewer-cache/1';
  toolVersion: string;
  recordsBytes: number;
  recordsMtimeMs: number;
  itemsBytes: number;
  options: string;
}

interface LoadedRun {
  manifest: RunManifest;
  /** slimmed for analysis, responses kept (see analysis-records.ts); an item's page reads its whole lines by `offsets` */
  records: RecordTable;
  offsets: ItemOffsets;
  items: Item[];
  tornBytes: number;
  ix: RunIndex;
  bands: Map<string, Band>;
  measure: ProbeMeasure;
}

/** Options as a stable key: keys sorted, undefined and empty objects dropped ({ bootstrap: {} } means {}). */
export function optionsKey(v: unknown): string {
  const prune = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(prune);
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const p = prune((x as Record<string, unknown>)[k]);
        if (p !== undefined) out[k] = p;
      }
      return Object.keys(out).length ? out : undefined;
    }
    return x;
  };
  return JSON.stringify(prune(v) ?? {});
}

async function stampOf(runDir: string, options: string): Promise<CacheStamp> {
  const st = await fs.stat(path.join(runDir, RECORDS_FILE)).catch(() => null);
  const it = await fs.stat(path.join(runDir, ITEMS_FILE)).catch(() => null);
  return { cache: 'sclab.viewer-cache/1', toolVersion: TOOL_VERSION, recordsBytes: st?.size ?? 0, recordsMtimeMs: st?.mtimeMs ?? 0, itemsBytes: it?.size ?? 0, options };
}

function sameStamp(a: unknown, b: CacheStamp): boolean {
  if (!a || typeof a !== 'object') return false;
  const s = a as Record<string, unknown>;
  return (Object.keys(b) as Array<keyof CacheStamp>).every((k) => s[k] === b[k]);
}

async function readCachedSummary(runDir: string, stamp: CacheStamp): Promise<FullSummary | null> {
  try {
    const json = JSON.parse(await fs.readFile(path.join(runDir, SUMMARY_FILE), 'utf8')) as { source?: unknown; conditions?: unknown; settings?: unknown };
    // the runner's own summary.json (older shape, no stamp) is not ours to trust: recompute
    if (!sameStamp(json.source, stamp) || typeof json.conditions !== 'object' || typeof json.settings !== 'object') return null;
    // cast: the stamp proves this file is the one we wrote from FullSummary for exactly these records and options
    return json as unknown as FullSummary;
  } catch {
    return null;
  }
}

class RunSource {
  private loaded: Promise<LoadedRun> | null = null;
  private summary: Promise<{ summary: FullSummary; tornBytes: number }> | null = null;
  private samples: SampleIndex | null = null;
  private quick: Promise<{ summary: FullSummary; tornBytes: number }> | null = null;
  private manifestP: Promise<RunManifest> | null = null;

  constructor(
    readonly runDir: string,
    private readonly opts: AnalysisOptions,
    private readonly useCache: boolean,
    private readonly givenItems?: readonly Item[],
  ) {}

  /** `forAnalysis`: statistics only, no page (the items without their template text: see analysisItem) */
  private items(forAnalysis = false): Promise<Item[]> {
    // a copy of the list (the items themselves shared): the pages take Item[]
    return this.givenItems ? Promise.resolve([...this.givenItems]) : readItems(this.runDir, { forAnalysis });
  }

  manifest(): Promise<RunManifest> {
    return (this.manifestP ??= readManifest(this.runDir));
  }

  load(): Promise<LoadedRun> {
    this.loaded ??= (async () => {
      const manifest = await this.manifest();
      const items = await this.items();
      // responses only where analysis reads them (generation runs): the sample search reads an item's answers from
      // its lines by the offsets
      const { table: records, tornBytes, offsets } = await readAnalysisRecords(this.runDir, items, { responses: manifest.experiment.task === 'generation', offsets: true, rows: manifest.counts.recorded });
      const ix = records.index(items, manifest.experiment);
      const bands = resolveBands(ix, probeNames(records.records()), manifest.experiment, this.opts.probes);
      return { manifest, records, offsets: offsets!, items, tornBytes, ix, bands, measure: this.opts.probes?.measure ?? 'cosine' };
    })();
    this.loaded.catch(() => (this.loaded = null));
    return this.loaded;
  }

  private async analysisOnly(): Promise<Pick<LoadedRun, 'manifest' | 'records' | 'items' | 'tornBytes'>> {
    const manifest = await this.manifest();
    const items = await this.items(true);
    const { table: records, tornBytes } = await readAnalysisRecords(this.runDir, items, { responses: manifest.experiment.task === 'generation', rows: manifest.counts.recorded });
    return { manifest, records, items, tornBytes };
  }

  /** One item's whole records (conversation included), read from records.jsonl by the index built on load. */
  async itemRecords(itemId: string): Promise<{ run: LoadedRun; records: RoundRecord[] }> {
    const run = await this.load();
    return { run, records: await readRecordsAt(this.runDir, run.offsets.get(itemId)) };
  }

  /** The full summary: from the stamped cache when it matches the records file, else recomputed (and cached). */
  fullSummary(): Promise<{ summary: FullSummary; tornBytes: number }> {
    this.summary ??= (async () => {
      const stamp = await stampOf(this.runDir, optionsKey(this.opts));
      if (this.useCache) {
        const cached = await readCachedSummary(this.runDir, stamp);
        if (cached) return { summary: cached, tornBytes: (cached as { source?: { tornBytes?: number } }).source?.tornBytes ?? 0 };
      }
      // the summary alone needs less than the pages: a run that only writes its summary.json reads no responses
      // (unless the task is generation) and keeps no records afterwards
      const run = this.loaded ? await this.loaded : await this.analysisOnly();
      const summary = analyzeRun(run.records, run.items, run.manifest.experiment, this.opts);
      // cache only a finished run's analysis: a running one changes under us
      if (this.useCache && run.manifest.status !== 'running') {
        const after = await stampOf(this.runDir, stamp.options);
        if (sameStamp(after, stamp)) {
          await writeFileAtomic(path.join(this.runDir, SUMMARY_FILE), JSON.stringify({ ...summary, source: { ...stamp, tornBytes: run.tornBytes } }) + '\n').catch(() => undefined);
        }
      }
      return { summary, tornBytes: run.tornBytes };
    })();
    this.summary.catch(() => (this.summary = null));
    return this.summary;
  }

  /**
   * What the overview needs, as fast as possible: the full summary when it is cached or already computed; otherwise
   * analysis without bootstrap resamples (the overview shows no interval: its per-round metrics, totals and notes are
   * the same either way), leaving the bootstrap-heavy pages to compute the full summary when first asked.
   */
  async overviewSummary(): Promise<{ summary: FullSummary; tornBytes: number }> {
    if (this.summary) return this.summary;
    if (this.useCache) {
      const cached = await readCachedSummary(this.runDir, await stampOf(this.runDir, optionsKey(this.opts)));
      if (cached) return this.fullSummary();
    }
    this.quick ??= this.load().then((run) => {
      const quick = analyzeRun(run.records, run.items, run.manifest.experiment, { ...this.opts, bootstrap: { ...this.opts.bootstrap, resamples: 0 } });
      // the settings shown are those of the full analysis the other pages use
      quick.settings = analyzeRun([], [], run.manifest.experiment, this.opts).settings;
      return { summary: quick, tornBytes: run.tornBytes };
    });
    this.quick.catch(() => (this.quick = null));
    return this.quick;
  }

  async sampleIndex(): Promise<SampleIndex> {
    if (this.samples) return this.samples;
    const run = await this.load();
    return (this.samples = buildSampleIndex(run.ix, run.bands, run.measure));
  }

  /** One page of the samples table; a free-text filter reads the lines of the items whose text does not match. */
  async samplesPage(params: ParamsOf['samples']): Promise<ResultOf['samples']> {
    const index = await this.sampleIndex();
    const run = await this.load();
    if (!params.filter.text?.trim()) return querySamples(index, params);
    const reader = await openRecordsAt(this.runDir);
    try {
      return await querySamples(index, params, (itemId) => reader.read(run.offsets.get(itemId)));
    } finally {
      await reader.close();
    }
  }

  invalidate(): void {
    this.loaded = null;
    this.summary = null;
    this.samples = null;
    this.manifestP = null;
    this.quick = null;
  }
}

/**
 * Computes a finished run's full analysis and writes it, stamped, to summary.json, so that the viewer opens the run at
 * once; for hosts to call when a run completes. A no-op for a running run (its records still change).
 */
export async function writeViewerCache(runDir: string, analysis: AnalysisOptions = {}, items?: readonly Item[]): Promise<void> {
  await createViewerService({ runDir, analysis, ...(items ? { items } : {}) }).call('probes');
}

export function createViewerService(opts: ViewerServiceOptions): ViewerService {
  const analysis = opts.analysis ?? {};
  const useCache = opts.cache ?? true;
  const a = new RunSource(opts.runDir, analysis, useCache, opts.items);
  const b = opts.compareRunDir ? new RunSource(opts.compareRunDir, analysis, useCache) : null;

  async function info(src: RunSource) {
    const [manifest, { tornBytes }] = await Promise.all([src.manifest(), src.fullSummary()]);
    return runInfo(manifest, path.basename(path.resolve(src.runDir)), tornBytes);
  }

  const handlers: ViewerHandlers = {
    overview: async () => {
      const [manifest, { summary, tornBytes }] = await Promise.all([a.manifest(), a.overviewSummary()]);
      return overviewFrom(summary, manifest, runInfo(manifest, path.basename(path.resolve(a.runDir)), tornBytes), b !== null);
    },
    ranks: async () => ranksFrom((await a.fullSummary()).summary),
    probes: async () => probesFrom((await a.fullSummary()).summary),
    instructions: async () => instructionsFrom((await a.fullSummary()).summary),
    causal: async () => causalFrom((await a.fullSummary()).summary),
    samples: async (params) => a.samplesPage(params),
    item: async ({ itemId }) => {
      const { run, records } = await a.itemRecords(itemId);
      const d = itemDetail(indexRun(records, run.items, run.manifest.experiment), itemId, run.bands, run.measure);
      if (!d) throw new SclabError('bad_request', `item ${JSON.stringify(itemId)} is not in this run`);
      return d;
    },
    compare: async () => {
      if (!b) return { available: false, reason: 'no second run to compare with: open one with Compare Two Runs, or `sclab view RUN_DIR --compare OTHER_RUN_DIR`.' };
      const [ra, rb, ia, ib] = await Promise.all([a.load(), b.load(), info(a), info(b)]);
      return { available: true, a: ia, b: ib, comparison: compareRuns(ra.ix, rb.ix, { ...analysis.bootstrap, scoreKey: analysis.scoreKey }) };
    },
  };
  // one generic step correlates a method with its params and result (TypeScript checks handlers[method] per M)
  const dispatch = <M extends Method>(method: M, params: ParamsOf[M]): Promise<ResultOf[M]> => handlers[method](params);

  const respond = async (msg: ViewerRequest): Promise<ViewerResponse> => {
    try {
      return { kind: 'response', id: msg.id, ok: true, result: await dispatch(msg.method, msg.params) };
    } catch (err) {
      return errorResponse(msg.id, err);
    }
  };

  return {
    async handle(raw) {
      const parsed = safeParseAppMessage(raw);
      if (!parsed.ok) return parsed.response;
      const msg = parsed.message;
      if (msg.kind !== 'request') return errorResponse(0, new SclabError('bad_request', `viewer command ${msg.command}: commands go to the host, not the data service`));
      return respond(msg);
    },
    respond,
    async call(method, params = {}) {
      // validated like a request from the app (defaults filled); a bad one throws SclabError('bad_request')
      const msg = parseAppMessage({ kind: 'request', id: 1, method, params });
      if (msg.kind !== 'request' || msg.method !== method) throw new SclabError('internal', `viewer call ${method}: not a request`);
      // safe: the parsed request's method is `method` (checked above), and the schema gave it that method's params
      return dispatch(method, msg.params as ParamsOf[typeof method]);
    },
    invalidate() {
      a.invalidate();
      b?.invalidate();
    },
  };
}
