/**
 * The viewer's message contract (browser-safe: zod and types only). Every host speaks it: the VS Code panel
 * (postMessage), `sclab view` (POST /api/message) and the static HTML report (answers embedded in the page).
 *
 * Four kinds of message, each an object with a `kind` field, validated on arrival by `parseAppMessage` (host side)
 * and `parseHostMessage` (app side); anything else is rejected with a SclabError('bad_request') naming the field:
 *
 *   app → host   request       { kind: 'request', id, method, params }         id: a positive integer from a counter
 *   host → app   response      { kind: 'response', id, ok: true, result }      id: the request's id
 *                               { kind: 'response', id, ok: false, error: { code, message } }
 *                               (id 0 = the request could not be read, so its id is unknown)
 *   host → app   notification  { kind: 'notification', event, data }           runProgress | runChanged | openItem | showPage
 *   app → host   command       { kind: 'command', command, args }              ready | revealItem | openRun | exportRun
 *
 * Methods (params → result type): overview {} → OverviewResult; ranks {} → RanksResult; probes {} → ProbesResult;
 * instructions {} → InstructionsResult; samples { offset, limit ≤ 500, filter, sort } → SamplesResult (one page,
 * never the whole run); item { itemId } → ItemResult; compare {} → CompareResult. Results are typed here; the host
 * that builds them is our own code, so the app checks their envelope, not every field.
 *
 * A host wires it like this (the VS Code panel):
 *   const service = createViewerService({ runDir, compareRunDir });          // src/core/viewer/service.ts
 *   webview.onDidReceiveMessage(async (raw) => {
 *     const msg = safeParseAppMessage(raw);
 *     if (!msg.ok) return webview.postMessage(msg.response);                  // answers id 0 or the request's id
 *     if (msg.message.kind === 'request') webview.postMessage(await service.respond(msg.message));
 *     else handleCommand(msg.message);                                        // reveal, open, export: the host's job
 *   });
 * Each message is validated once, where it arrives: `service.respond` takes the validated request, `service.handle`
 * raw input (it validates) for hosts with no commands to route. Neither throws: errors come back as error responses.
 * When the run folder changes (new records, a resume), call `service.invalidate()` and then post
 * { kind: 'notification', event: 'runChanged', data: {} }: the app asks again.
 */
import * as z from 'zod';
import type { RoundMetrics } from '../analysis/analyze';
import type { ProbeMeasure, BandSeries, LayerRoundMatrix } from '../analysis/probes';
import type { FlipCounts, GoldRankSummary, RankSplitRow, RankTransition } from '../analysis/ranks';
import type { SuperficialityRow } from '../analysis/superficiality';
import type { CausalRow } from '../analysis/causal';
import type { InstructionTable } from '../analysis/instructions';
import type { ScoreKeyRow } from '../analysis/toxicity';
import type { RunComparison } from '../analysis/compare';
import type { Capabilities } from '../model/manifest';
import { SclabError } from '../model/errors';

export const PROTOCOL_VERSION = 1;
/** the most sample rows one request may ask for */
export const MAX_PAGE = 500;

// ---------------------------------------------------------------- requests (app → host)

export const SampleFilterSchema = z
  .object({
    /** case-insensitive substring of the item id, its dataset fields or any answer */
    text: z.string().max(200).optional(),
    condition: z.string().max(200).optional(),
    /** how the gold rank moved from the condition's first to its last round */
    rankChange: z.enum(['improved', 'worsened', 'unchanged']).optional(),
    /** correctness in the first → last round */
    flip: z.enum(['wrong-to-right', 'right-to-wrong', 'stayed-right', 'stayed-wrong']).optional(),
    /** the gold rank in the condition's first round */
    rankFirst: z.number().int().positive().optional(),
    /** rows with at least one error record */
    errorsOnly: z.boolean().optional(),
  })
  .strict();
export type SampleFilter = z.infer<typeof SampleFilterSchema>;

export const SAMPLE_SORT_KEYS = ['item', 'line', 'rankFirst', 'rankLast', 'rankChange', 'bandFirst', 'bandLast', 'bandChange'] as const;
export const SampleSortSchema = z.object({ key: z.enum(SAMPLE_SORT_KEYS), dir: z.enum(['asc', 'desc']) }).strict();
export type SampleSort = z.infer<typeof SampleSortSchema>;

const Empty = z.object({}).strict();
export const SamplesParamsSchema = z
  .object({
    offset: z.number().int().nonnegative(),
    limit: z.number().int().positive().max(MAX_PAGE),
    filter: SampleFilterSchema.default({}),
    sort: SampleSortSchema.default({ key: 'item', dir: 'asc' }),
  })
  .strict();
export type SamplesParams = z.infer<typeof SamplesParamsSchema>;
export const ItemParamsSchema = z.object({ itemId: z.string().min(1).max(1000) }).strict();

const id = z.number().int().positive();
const req = <M extends string, P extends z.ZodType>(method: M, params: P) =>
  z.object({ kind: z.literal('request'), id, method: z.literal(method), params }).strict();

export const RequestSchema = z.discriminatedUnion('method', [
  req('overview', Empty.default({})),
  req('ranks', Empty.default({})),
  req('probes', Empty.default({})),
  req('instructions', Empty.default({})),
  req('causal', Empty.default({})),
  req('samples', SamplesParamsSchema),
  req('item', ItemParamsSchema),
  req('compare', Empty.default({})),
]);
export type ViewerRequest = z.infer<typeof RequestSchema>;
export type Method = ViewerRequest['method'];
/** what a caller passes as params per method (defaults filled on parsing) */
export interface ParamsInput {
  overview: Record<string, never>;
  ranks: Record<string, never>;
  probes: Record<string, never>;
  instructions: Record<string, never>;
  causal: Record<string, never>;
  samples: z.input<typeof SamplesParamsSchema>;
  item: z.infer<typeof ItemParamsSchema>;
  compare: Record<string, never>;
}

/** params per method as a handler receives them (validated, defaults filled) */
export interface ParamsOf {
  overview: Record<string, never>;
  ranks: Record<string, never>;
  probes: Record<string, never>;
  instructions: Record<string, never>;
  causal: Record<string, never>;
  samples: SamplesParams;
  item: z.infer<typeof ItemParamsSchema>;
  compare: Record<string, never>;
}

/** What answers the app's requests: one handler per method, its result type checked against `ResultOf`. */
export type ViewerHandlers = { [M in Method]: (params: ParamsOf[M]) => Promise<ResultOf[M]> };

export const CommandSchema = z.discriminatedUnion('command', [
  /** the app has loaded and listens; the host may now send openItem */
  z.object({ kind: z.literal('command'), command: z.literal('ready'), args: Empty.default({}) }).strict(),
  /** show the item's row in its dataset file */
  z
    .object({
      kind: z.literal('command'),
      command: z.literal('revealItem'),
      /** preserveFocus: the keyboard user stays in the viewer (Enter in the samples table) */
      args: z.object({ itemId: z.string().min(1), file: z.string().min(1), line: z.number().int().positive(), preserveFocus: z.boolean().optional() }).strict(),
    })
    .strict(),
  /** let the user pick another run folder */
  z.object({ kind: z.literal('command'), command: z.literal('openRun'), args: Empty.default({}) }).strict(),
  z.object({ kind: z.literal('command'), command: z.literal('exportRun'), args: z.object({ format: z.enum(['csv', 'jsonl', 'html']) }).strict() }).strict(),
]);
export type ViewerCommand = z.infer<typeof CommandSchema>;

export const AppMessageSchema = z.union([RequestSchema, CommandSchema]);
export type AppMessage = ViewerRequest | ViewerCommand;

// ---------------------------------------------------------------- host → app

export const ErrorBodySchema = z.object({ code: z.string().min(1), message: z.string() }).strict();
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ResponseSchema = z.discriminatedUnion('ok', [
  z.object({ kind: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(true), result: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ kind: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(false), error: ErrorBodySchema }).strict(),
]);
export type ViewerResponse = { kind: 'response'; id: number; ok: true; result: unknown } | { kind: 'response'; id: number; ok: false; error: ErrorBody };

/** The viewer's pages, in tab order. */
export const VIEWER_PAGES = ['overview', 'ranks', 'probes', 'instructions', 'causal', 'samples', 'compare'] as const;
export type ViewerPage = (typeof VIEWER_PAGES)[number];

export const NotificationSchema = z.discriminatedUnion('event', [
  z
    .object({
      kind: z.literal('notification'),
      event: z.literal('runProgress'),
      data: z.object({ runId: z.string(), status: z.string(), planned: z.number().int().nonnegative(), recorded: z.number().int().nonnegative(), errors: z.number().int().nonnegative() }).strict(),
    })
    .strict(),
  /** the run folder changed (new records, a resume finished): the app asks again */
  z.object({ kind: z.literal('notification'), event: z.literal('runChanged'), data: Empty.default({}) }).strict(),
  /** show this item (e.g. a CodeLens in the dataset file was clicked) */
  z.object({ kind: z.literal('notification'), event: z.literal('openItem'), data: z.object({ itemId: z.string().min(1) }).strict() }).strict(),
  /** show this page (e.g. the Get Started walkthrough's "Open the Ranks page") */
  z.object({ kind: z.literal('notification'), event: z.literal('showPage'), data: z.object({ page: z.enum(VIEWER_PAGES) }).strict() }).strict(),
]);
export type ViewerNotification = z.infer<typeof NotificationSchema>;

export const HostMessageSchema = z.union([ResponseSchema, NotificationSchema]);
export type HostMessage = ViewerResponse | ViewerNotification;

// ---------------------------------------------------------------- parsing on arrival

function describe(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid message';
  const where = i.path.length ? i.path.join('.') : '(message)';
  return `${where}: ${i.message}`;
}

/** Validates a message from the app (request or command); throws SclabError('bad_request') naming the field. */
export function parseAppMessage(raw: unknown): AppMessage {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  const schema = kind === 'request' ? RequestSchema : kind === 'command' ? CommandSchema : null;
  if (!schema) throw new SclabError('bad_request', `viewer message: kind must be "request" or "command", got ${JSON.stringify(kind ?? null)}`);
  const r = schema.safeParse(raw);
  if (!r.success) throw new SclabError('bad_request', `viewer ${kind}: ${describe(r.error)}`);
  return r.data as AppMessage;
}

/** Like parseAppMessage, but returns the error response to send back instead of throwing. */
export function safeParseAppMessage(raw: unknown): { ok: true; message: AppMessage } | { ok: false; response: ViewerResponse } {
  try {
    return { ok: true, message: parseAppMessage(raw) };
  } catch (err) {
    const rid = (raw as { id?: unknown } | null)?.id;
    return { ok: false, response: errorResponse(typeof rid === 'number' && Number.isInteger(rid) && rid > 0 ? rid : 0, err) };
  }
}

/** Validates a message from the host (response or notification); throws SclabError('bad_request'). */
export function parseHostMessage(raw: unknown): HostMessage {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  const schema = kind === 'response' ? ResponseSchema : kind === 'notification' ? NotificationSchema : null;
  if (!schema) throw new SclabError('bad_request', `host message: kind must be "response" or "notification", got ${JSON.stringify(kind ?? null)}`);
  const r = schema.safeParse(raw);
  if (!r.success) throw new SclabError('bad_request', `host ${kind}: ${describe(r.error)}`);
  return r.data as HostMessage;
}

export function errorResponse(id: number, err: unknown): ViewerResponse {
  const code = err instanceof SclabError ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'response', id, ok: false, error: { code, message } };
}

/** A stable key of a request's meaning (method + params with defaults, keys sorted): the static report's lookup key. */
export function requestKey(method: Method, params: unknown): string {
  const parsed = RequestSchema.safeParse({ kind: 'request', id: 1, method, params });
  return parsed.success ? requestKeyOf(parsed.data) : `${method}:${stableJson(params)}`;
}

/** The same key of a request already validated (its defaults filled). */
export function requestKeyOf(request: ViewerRequest): string {
  return `${request.method}:${stableJson(request.params)}`;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------- results (host → app)

export interface RunInfo {
  id: string;
  /** the run folder's name, for titles */
  name: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  toolVersion: string;
  experiment: { name: string; preset?: string; task: 'mcq' | 'generation' };
  dataset: { path: string; items: number; format: string };
  backend: { kind: string; model: string; capabilities: Capabilities; notes: string[] };
  counts: { planned: number; recorded: number; errors: number; cached: number };
  failure?: { code: string; message: string };
  /** torn bytes dropped from the end of records.jsonl (a crash mid-write) */
  tornBytes: number;
}

export interface ConditionOverview {
  name: string;
  kind: string;
  description?: string;
  rounds: RoundMetrics[];
}

export interface OverviewResult {
  run: RunInfo;
  conditions: ConditionOverview[];
  totals: { records: number; items: number; errors: number; cached: number; errorsByCode: Record<string, number>; unknownItems: number };
  /** which pages have something to show; the reason is shown where a page is empty */
  available: Record<'ranks' | 'probes' | 'instructions' | 'causal' | 'compare' | 'toxicity' | 'bias' | 'pronouns', boolean>;
  /** plain sentences about what this run lacks or what the numbers rest on */
  notes: string[];
  settings: { bootstrap: { resamples: number; seed: number; level: number }; scoreKey: string; scoreThreshold: number };
  /** every score key side by side, when records carry more than one (e.g. Perspective and an offline re-scoring) */
  scoreKeys?: ScoreKeyRow[];
}

export interface Unavailable {
  available: false;
  /** why, in words a researcher can act on */
  reason: string;
}

export type RanksResult =
  | Unavailable
  | {
      available: true;
      distributions: Array<{ condition: string; kind: string; rounds: Array<{ round: number; summary: GoldRankSummary }> }>;
      transitions: RankTransition[];
      flips: FlipCounts[];
      rankSplit: RankSplitRow[];
      bootstrap: { resamples: number; seed: number; level: number };
    };

export interface ProbeCurve {
  probe: string;
  condition: string;
  round: number;
  n: number;
  layers: number[];
  values: Array<number | null>;
  band: { lo: number; hi: number; mean: number | null };
}

export type ProbesResult =
  | Unavailable
  | {
      available: true;
      measure: ProbeMeasure;
      probes: string[];
      curves: ProbeCurve[];
      matrices: LayerRoundMatrix[];
      bands: BandSeries[];
      superficiality: SuperficialityRow[];
      bootstrap: { resamples: number; seed: number; level: number };
    };

export type InstructionsResult = Unavailable | { available: true; table: InstructionTable };

/** the dose–response of each steering probe and its verdict, as core/analysis/causal computed them */
export type CausalResult = Unavailable | { available: true; rows: CausalRow[]; level: number };

export interface SampleRound {
  round: number;
  /** the parsed answer's label, e.g. "(b)" */
  answer: string | null;
  correct: boolean | null;
  goldRank: number | null;
  /** band score of the sparkline probe */
  band: number | null;
  error?: string;
}

export interface SampleRow {
  itemId: string;
  condition: string;
  line: number | null;
  /** the item's text, cut to 240 characters */
  preview: string;
  category?: string;
  rounds: SampleRound[];
  rankFirst: number | null;
  rankLast: number | null;
  bandFirst: number | null;
  bandLast: number | null;
}

export interface SamplesResult {
  total: number;
  offset: number;
  limit: number;
  rows: SampleRow[];
  /** conditions present, for the filter */
  conditions: string[];
  /** the probe whose band score the rows carry, or null */
  probe: string | null;
}

export interface DiffOp {
  op: 'eq' | 'ins' | 'del';
  text: string;
}

export interface ItemRound {
  round: number;
  /** this round's user turn (the last user message sent) */
  user: string;
  prefill: string;
  response: string;
  answer: string | null;
  correct: boolean | null;
  goldRank: number | null;
  rankMethod: 'exact' | 'label-logprob' | 'approximate' | null;
  /** the gold option was outside the top k: goldRank is a lower bound */
  rankCensored: boolean;
  optionLogprobs: Array<number | null> | null;
  probes: Record<string, { layers: number[]; values: Array<number | null>; band: number | null }>;
  scores: Record<string, { value: number | null; scorer: string }>;
  error?: { code: string; message: string };
  latencyMs: number;
  cached: boolean;
}

export interface ItemResult {
  item: {
    id: string;
    kind: 'mcq' | 'generation';
    source: { file: string; line: number } | null;
    fields: Record<string, string>;
    choices: string[];
    choiceLabels: string[];
    answer: number | null;
  };
  /** the probe whose band the sparklines show, and its band */
  probe: { name: string; lo: number; hi: number; measure: ProbeMeasure } | null;
  conditions: Array<{ condition: string; kind: string; rounds: ItemRound[]; diffs: Array<{ from: number; to: number; ops: DiffOp[] }> }>;
}

export type CompareResult = Unavailable | { available: true; a: RunInfo; b: RunInfo; comparison: RunComparison };

export interface ResultOf {
  overview: OverviewResult;
  ranks: RanksResult;
  probes: ProbesResult;
  instructions: InstructionsResult;
  causal: CausalResult;
  samples: SamplesResult;
  item: ItemResult;
  compare: CompareResult;
}
