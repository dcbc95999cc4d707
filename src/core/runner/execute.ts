import { setMaxListeners } from 'node:events';
import { linkSignal, type LinkedSignal } from '../util/signal';
import type { Backend, ChatResult, OptionScoreResult, Steering, TopAlternative } from '../backends/backend';
import { abortsRun, cancelledError, isSclabError, SclabError } from '../model/errors';
import type { Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { BackendDescription } from '../model/manifest';
import type { RoundRecord } from '../model/record';
import { buildRound, scoreAnswer } from '../protocol';
import { cacheKey, isCacheable, type ResponseCache } from './cache';
import { mergeExtras, type RecordExtras, type RoundContext, type RoundExtension } from './extensions';
import { chainAt, chainCount, chainItemIndex, plannedRecordCount, type Chain } from './plan';
import { goldRank, labelOpening, labelOptionScores, optionContinuations, resolveRankMethod, tokenCounts } from './ranking';
import type { RetryPolicy } from './retry';
import { AdaptiveScheduler, trackRequests, type RequestTally, type SchedulerStats } from './scheduler';
import { chainKey, type ResumeState } from './store';

export interface RunProgress {
  planned: number;
  recorded: number;
  errors: number;
  cached: number;
  /** the run's requests now: in flight, the adaptive limit, requests per minute */
  requests?: SchedulerStats;
}

/**
 * The run's items by plan position: an array, or a run folder's items.jsonl read on demand (`ItemFile`), so that a
 * run need not hold its dataset.
 */
export interface ItemSource {
  readonly length: number;
  at(index: number): Item | undefined | Promise<Item | undefined>;
}

export interface ExecuteOptions {
  experiment: Experiment;
  items: ItemSource;
  backend: Backend;
  description: BackendDescription;
  /** chains in flight, and the most requests in flight when no scheduler is given */
  concurrency: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /** the run's request scheduler (slots, budgets, per-request retry); default: adaptive, `concurrency` at most */
  scheduler?: AdaptiveScheduler;
  cache?: ResponseCache;
  /** probes, scorers: work around each round besides generation */
  extensions?: RoundExtension[];
  /** what a resumed run already recorded (never asked for again); absent for a new run */
  resume?: ResumeState;
  /** persists one finished line; the run is only as durable as this */
  append: (record: RoundRecord) => Promise<void>;
  onProgress?: (p: RunProgress) => void;
  signal?: AbortSignal;
  random?: () => number;
}

interface RoundOutcome {
  chat: ChatResult;
  extras: RecordExtras;
  options?: OptionScoreResult;
  /** the label-probability rank's top-k, when the run ranks that way */
  labelAlternatives?: TopAlternative[];
  cached: boolean;
  latencyMs: number;
}

/** One call of the round, run through the scheduler unless its callee schedules each of its requests itself. */
type Call = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>, selfScheduled: boolean) => Promise<T>;

/** What the chains of one run share: its options, the stop signal, the request path, the counters, the first fatal error. */
interface RunLoop {
  opts: ExecuteOptions;
  /** aborted by the caller's signal or by a fatal error in any chain */
  stop: LinkedSignal;
  call: Call;
  progress: RunProgress;
  report: () => void;
  fatal: unknown;
  /** appends settle in order, so the last one settling means every one has */
  lastWrite: Promise<void>;
}

/**
 * Runs every planned item × condition × round not yet recorded. Per-item failures become error records; only
 * config, I/O, auth and cancellation stop the run (the error is rethrown after in-flight work settles).
 */
export async function executeRun(opts: ExecuteOptions): Promise<RunProgress> {
  // a forced rank method the backend cannot give stops the run before any request
  resolveRankMethod(opts.experiment, opts.description, opts.backend);
  const progress = initialProgress(opts);
  const scheduler = opts.scheduler ?? new AdaptiveScheduler({ concurrency: opts.concurrency }, { retry: opts.retry, random: opts.random });
  const report = () => opts.onProgress?.({ ...progress, requests: scheduler.stats() });
  report();

  // an internal controller lets a fatal error in one worker stop the others' in-flight requests
  const stop = linkSignal(opts.signal);
  setMaxListeners(0, stop.signal); // one listener per in-flight request
  const call: Call = (what, fn, selfScheduled) =>
    selfScheduled ? fn(stop.signal) : scheduler.request({ what, signal: stop.signal, send: fn, timeoutMs: opts.requestTimeoutMs });
  const run: RunLoop = { opts, stop, call, progress, report, fatal: undefined, lastWrite: Promise.resolve() };
  opts.backend.attachScheduler?.(scheduler);
  try {
    await runWorkers(run);
    await run.lastWrite;
  } finally {
    stop.unlink();
    opts.backend.attachScheduler?.(undefined);
  }
  if (run.fatal !== undefined && !(isSclabError(run.fatal) && run.fatal.code === 'cancelled' && opts.signal?.aborted)) throw run.fatal;
  if (opts.signal?.aborted) throw cancelledError();
  return progress;
}

/**
 * The counters a run starts from. What is held is what chains in flight need: each chain's own history, and for a
 * resumed run the compact ResumeState; finished records are counted and forgotten.
 */
function initialProgress(opts: ExecuteOptions): RunProgress {
  const resumed = opts.resume;
  return {
    planned: plannedRecordCount(opts.items, opts.experiment),
    recorded: resumed?.counts.recorded ?? 0,
    errors: resumed?.counts.errors ?? 0,
    cached: resumed?.counts.cached ?? 0,
  };
}

/** Workers take the next chain until none is left or the run stops; the first fatal error stops them all. */
async function runWorkers(run: RunLoop): Promise<void> {
  const { items, experiment, concurrency } = run.opts;
  const chains = chainCount(items, experiment);
  let next = 0;
  const worker = async () => {
    while (!run.stop.signal.aborted) {
      if (next >= chains) return;
      const i = next++;
      try {
        const item = await items.at(chainItemIndex(experiment, i));
        if (!item) throw new SclabError('internal', `the plan's item ${chainItemIndex(experiment, i) + 1} is missing`);
        await runChain(run, chainAt(item, experiment, i));
      } catch (err) {
        run.fatal ??= err;
        run.stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, chains)) }, worker));
}

/** The rounds of one item × condition in order, each carrying the conversation so far; recorded rounds are replayed. */
async function runChain(run: RunLoop, chain: Chain): Promise<void> {
  const resumed = run.opts.resume;
  const key = chainKey(chain.item.id, chain.condition.name);
  if (resumed?.complete.has(key)) return;
  const recorded = resumed?.partial.get(key);
  const history: Array<{ prefill: string; response: string }> = [];
  let failedRound: number | null = null;
  for (let round = 0; round < chain.rounds; round++) {
    if (run.stop.signal.aborted) return;
    const prior = recorded?.get(round);
    if (prior) {
      if (prior.error) failedRound ??= round;
      history.push({ prefill: prior.prefill, response: prior.response });
      continue;
    }
    const built = buildRound(run.opts.experiment, chain.condition, chain.item, round, history);
    const { record, failed } = await recordRound(run, { chain, round, built }, failedRound);
    if (failed) failedRound = round;
    if (run.stop.signal.aborted) return; // a cancelled run records nothing more; the round is redone on resume
    appendRecord(run, record);
    history.push({ prefill: record.prefill, response: record.response });
  }
}

/** Asks one round, or records it skipped after an earlier round failed; a per-item failure becomes an error record. */
async function recordRound(run: RunLoop, input: RoundInput, failedRound: number | null): Promise<{ record: RoundRecord; failed: boolean }> {
  if (failedRound !== null) {
    return { record: errorRecord({ ...input, tally: [], err: new SclabError('internal', `round ${failedRound} failed; later rounds need its answer`), code: 'skipped' }), failed: false };
  }
  const tally: RequestTally[] = [];
  try {
    const outcome = await trackRequests(tally, () => runRound({ opts: run.opts, ...input, signal: run.stop.signal, call: run.call }));
    return { record: successRecord({ exp: run.opts.experiment, ...input, outcome, tally }), failed: false };
  } catch (err) {
    if (run.stop.signal.aborted || abortsRun(err)) throw err;
    return { record: errorRecord({ ...input, tally, err }), failed: true };
  }
}

/**
 * The next round goes out while this line is being written: the store writes lines in the order they were appended,
 * so a crash can lose only a tail of lines, never a round whose later round was kept.
 */
function appendRecord(run: RunLoop, record: RoundRecord): void {
  run.lastWrite = run.opts.append(record).then(
    () => {
      count(run.progress, record);
      run.report();
    },
    (err: unknown) => {
      run.fatal ??= err instanceof SclabError ? err : new SclabError('io', `cannot write the record: ${String(err)}`);
      run.stop.abort();
    },
  );
}

/** the condition's intervention, from whichever extension resolved it */
function steeringOf(opts: ExecuteOptions, condition: string): Steering | undefined {
  for (const ext of opts.extensions ?? []) {
    const s = ext.steering?.get(condition);
    if (s) return s;
  }
  return undefined;
}

function count(p: RunProgress, r: RoundRecord): void {
  p.recorded++;
  if (r.error) p.errors++;
  if (r.cached) p.cached++;
}

/** One round of one chain, as it is about to be asked. */
interface RoundInput {
  chain: Chain;
  round: number;
  built: Pick<RoundRecord, 'messages' | 'prefill'>;
}

async function runRound({ opts, chain, round, built, signal, call }: RoundInput & { opts: ExecuteOptions; signal: AbortSignal; call: Call }): Promise<RoundOutcome> {
  const { experiment: exp, backend, description } = opts;
  const item = chain.item;
  const steer = steeringOf(opts, chain.condition.name);
  const ctx: RoundContext = { experiment: exp, item, condition: chain.condition, round, messages: built.messages, prefill: built.prefill, backend, description, signal, ...(steer ? { steer } : {}) };
  const extras: RecordExtras = {};
  // probes read the round input before the answer exists
  for (const ext of opts.extensions ?? []) {
    if (!ext.beforeChat) continue;
    mergeExtras(extras, await call(ext.name, (s) => ext.beforeChat!({ ...ctx, signal: s }), ext.schedulesOwnRequests === true));
  }
  const outcome = await generateRound({ opts, item, built, call, steer });
  for (const ext of opts.extensions ?? []) {
    if (!ext.afterChat) continue;
    mergeExtras(extras, await call(ext.name, (s) => ext.afterChat!({ ...ctx, signal: s, response: outcome.chat.text }), ext.schedulesOwnRequests === true));
  }
  return { ...outcome, extras };
}

/** Generation and option scoring: the part of a round that the response cache may answer. */
async function generateRound({ opts, item, built, call, steer }: { opts: ExecuteOptions; item: Item; built: RoundInput['built']; call: Call; steer: Steering | undefined }): Promise<Omit<RoundOutcome, 'extras'>> {
  const { experiment: exp, backend, description } = opts;
  const rankable = item.kind === 'mcq' && (item.choiceLabels?.length ?? 0) > 0;
  const method = resolveRankMethod(exp, description, backend);
  const wantOptions = rankable && method === 'exact';
  const continuations = wantOptions ? optionContinuations(item, exp.ranking.continuation === 'label+text') : undefined;
  const key =
    opts.cache && isCacheable(exp.decoding)
      ? cacheKey({
          backend: description.kind,
          model: description.model,
          baseUrl: description.baseUrl,
          messages: built.messages,
          prefill: built.prefill,
          decoding: exp.decoding,
          continuations,
          ...(steer ? { steer } : {}),
        })
      : undefined;
  // the label-probability rank: one more one-token request per round, never cached (it is cheap and small)
  const rankByLabel = async (): Promise<TopAlternative[] | undefined> => {
    if (!rankable || method !== 'label-logprob' || !backend.labelLogprobs) return undefined;
    const req = { messages: built.messages, prefill: built.prefill + labelOpening(item, built.prefill) };
    return call('label probabilities', (s) => backend.labelLogprobs!(req, s), backend.attachScheduler !== undefined);
  };
  if (key && opts.cache) {
    const hit = await opts.cache.get(key);
    if (hit && (!continuations || hit.options)) {
      const labelAlternatives = await rankByLabel();
      return { chat: hit.chat, options: hit.options, labelAlternatives, cached: true, latencyMs: 0 };
    }
  }
  const started = performance.now();
  const selfScheduled = backend.attachScheduler !== undefined;
  const chat = await call('chat', (s) => backend.chat({ messages: built.messages, prefill: built.prefill, decoding: exp.decoding, ...(steer ? { steer } : {}) }, s), selfScheduled);
  let options: OptionScoreResult | undefined;
  if (continuations && backend.scoreOptions) {
    options = await call('option scoring', (s) => backend.scoreOptions!({ messages: built.messages, prefill: built.prefill, continuations, ...(steer ? { steer } : {}) }, s), selfScheduled);
  }
  const labelAlternatives = await rankByLabel();
  const latencyMs = performance.now() - started;
  if (key && opts.cache) await opts.cache.put(key, { chat, options });
  return { chat, options, labelAlternatives, cached: false, latencyMs };
}

function successRecord({ exp, chain, round, built, outcome: o, tally }: RoundInput & { exp: Experiment; outcome: RoundOutcome; tally: RequestTally[] }): RoundRecord {
  const { messages, prefill } = built;
  const scored = scoreAnswer(o.chat.text, chain.item, exp.answerParsing);
  const record: RoundRecord = {
    itemId: chain.item.id,
    condition: chain.condition.name,
    round,
    messages,
    prefill,
    response: o.chat.text,
    answer: scored.answer,
    answerFirstOption: scored.answerFirstOption,
    correct: scored.correct,
    latencyMs: Math.round(o.latencyMs * 10) / 10,
    attempts: roundAttempts(tally),
    cached: o.cached,
    at: new Date().toISOString(),
  };
  if (tally.length > 0) record.requests = tally;
  if (o.chat.finishReason) record.finishReason = o.chat.finishReason;
  if (o.chat.topLogprobs) record.topLogprobs = o.chat.topLogprobs;
  if (o.chat.generatedTokens) record.generatedTokens = o.chat.generatedTokens;
  if (o.extras.probes) record.probes = o.extras.probes;
  if (o.extras.scores) record.scores = o.extras.scores;
  if (o.options) {
    record.optionScores = {
      method: 'exact',
      logprobs: o.options.logprobs.map((v) => (Number.isFinite(v) ? v : null)),
      tokenCounts: tokenCounts(o.options),
      aggregate: exp.ranking.aggregate,
      goldRank: goldRank(o.options, chain.item.answer, exp.ranking.aggregate),
    };
  } else if (o.labelAlternatives) {
    record.optionScores = labelOptionScores(o.labelAlternatives, chain.item);
  }
  return record;
}

/** A round that failed (or was skipped because an earlier round failed): a record, not an exception. */
function errorRecord({ chain, round, built, tally, err, code }: RoundInput & { tally: RequestTally[]; err: unknown; code?: string }): RoundRecord {
  const record: RoundRecord = {
    itemId: chain.item.id,
    condition: chain.condition.name,
    round,
    messages: built.messages,
    prefill: built.prefill,
    response: '',
    answer: null,
    correct: null,
    latencyMs: 0,
    attempts: roundAttempts(tally),
    cached: false,
    error: {
      code: code ?? (isSclabError(err) ? err.code : 'internal'),
      message: err instanceof Error ? err.message : String(err),
    },
    at: new Date().toISOString(),
  };
  if (tally.length > 0) record.requests = tally;
  return record;
}

/** The tries a round took: one, plus every retry of any of its requests. */
function roundAttempts(tally: RequestTally[]): number {
  return 1 + tally.reduce((n, t) => n + t.attempts - 1, 0);
}
