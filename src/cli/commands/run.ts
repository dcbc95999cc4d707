import { InvalidArgumentError, type Command } from 'commander';
import { messageIn, SclabError } from '../../core/model/errors';
import { CLI_REMEDY_WORDS } from '../remedy-words';
import type { BackendRef } from '../../core/model/experiment';
import type { RunResult } from '../../core/runner/run';
import { publicUrlOf } from '../../core/runner/public-experiment';
import { backendRefFromManifest, runSession, type ResumeRequest, type SessionBackend, type SessionHost, type StartRequest } from '../../core/runner/session';
import { checkKeyConsent } from '../key-consent';
import { createBackend, resolveBackendRef } from '../backend-from-flags';
import { EXIT } from '../exit';
import { createProgressReporter, type ProgressReporter } from '../progress';
import { writeViewerCache } from '../../core/viewer/service';
import { envSecrets, printScorerNotes } from './scorer';
import { withSigint } from '../signals';
import { FMA_MODES, type FmaMode } from '../../core/engine/kernels-wasm';

export function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** --engine-fma's help and parser, shared by run and demo */
export const ENGINE_FMA_HELP =
  'embedded engine: fused multiply-add in the matmul kernels: auto (default; where the runtime has WebAssembly relaxed SIMD), on, off (multiply then add: the last bits of results differ from on)';
export function engineFmaMode(value: string): FmaMode {
  if (!(FMA_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError('--engine-fma must be auto, on or off');
  return value as FmaMode;
}

function positiveNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function nonNegativeNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
}

interface RunFlags {
  resume?: string;
  preset?: string;
  backend?: string;
  model?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  allowKeyEnv?: string[];
  sidecarUrl?: string;
  sidecarTokenEnv?: string;
  rounds?: number;
  limit?: number;
  concurrency: number;
  maxRpm?: number;
  maxTpm?: number;
  engineCacheMb?: number;
  engineThreads?: number;
  engineFma?: FmaMode;
  requestTimeout: number;
  maxResponseMb: number;
  out: string;
  cache: boolean;
  cacheDir?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The environment the backend factory reads, with the sidecar flags folded in (the token itself stays in the env). */
function backendEnv(flags: RunFlags): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (flags.sidecarUrl) env.SCLAB_SIDECAR_URL = flags.sidecarUrl;
  if (flags.sidecarTokenEnv) env.SCLAB_SIDECAR_TOKEN = process.env[flags.sidecarTokenEnv];
  return env;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run baseline and self-correction rounds over a dataset or experiment file (or resume a run)')
    .argument('[file]', 'a dataset (.jsonl, .csv, .tsv, BBQ, Winogender, RealToxicityPrompts) or an experiment file (*.sclab.yaml)')
    .option('--resume <runDir>', 'finish a cancelled or killed run without repeating recorded lines')
    .option('--preset <name>', 'paper-bbq, paper-winogender or paper-realtoxicity')
    .option('--backend <kind>', 'openai | embedded | sidecar (default: openai when --base-url is given, else embedded)')
    .option('--model <idOrPath>', 'model id on the server, or a model path/name for the embedded engine')
    .option('--base-url <url>', 'OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1')
    .option('--api-key-env <name>', 'environment variable that holds the API key (default OPENAI_API_KEY)')
    .option('--allow-key-env <name>', 'let the experiment file send this environment variable as a key (repeatable); a file cannot choose one on its own', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--sidecar-url <url>', 'sidecar for hidden states and probe scores (--backend sidecar; or SCLAB_SIDECAR_URL)')
    .option('--sidecar-token-env <name>', 'environment variable that holds the sidecar\'s bearer token (default SCLAB_SIDECAR_TOKEN)')
    .option('--rounds <n>', 'rounds of the self-correct condition (default 3; paper presets 5)', positiveInt('--rounds'))
    .option('--limit <n>', 'run only the first N items (after the experiment filter)', positiveInt('--limit'))
    .option('--concurrency <n>', 'most requests in flight at once (chat, option scoring, probes); lowered on 429 and raised again', positiveInt('--concurrency'), 4)
    .option('--max-rpm <n>', 'requests per minute the server allows; requests wait for budget', positiveNumber('--max-rpm'))
    .option('--max-tpm <n>', 'tokens per minute the server allows (prompt + max_tokens, corrected by usage)', positiveNumber('--max-tpm'))
    .option('--engine-cache-mb <MiB>', 'embedded engine: memory for reused prompt prefixes (default 512; 0 = prefill every request from scratch)', nonNegativeNumber('--engine-cache-mb'))
    .option('--engine-threads <n>', 'embedded engine: worker threads sharing one copy of the weights, each serving its own chains (default: the cores; never more than --concurrency)', positiveInt('--engine-threads'))
    .option('--engine-fma <mode>', ENGINE_FMA_HELP, engineFmaMode)
    .option('--request-timeout <seconds>', 'deadline of one request', positiveNumber('--request-timeout'), 120)
    .option('--max-response-mb <n>', 'largest answer body read from the server, in MiB (a bigger one fails its attempt)', positiveNumber('--max-response-mb'), 32)
    .option('--out <dir>', 'folder that receives the run folder', '.sclab/runs')
    .option('--no-cache', 'do not reuse or store responses in the content-addressed cache')
    .option('--cache-dir <dir>', 'response cache folder (default: "cache" beside --out)')
    .option('--json', 'print one JSON object on stdout when done')
    .option('--quiet', 'no progress output')
    .action(async (file: string | undefined, flags: RunFlags, cmd: Command) => {
      if (!file && !flags.resume) throw new SclabError('config', 'give a dataset or experiment file, or --resume RUN_DIR');
      if (file && flags.resume) throw new SclabError('config', 'give either a file or --resume RUN_DIR, not both');
      const result = await withSigint((signal) => (flags.resume ? resume(flags.resume, flags, cmd, signal) : start(file!, flags, signal)));
      printResult(result, flags.json === true);
      process.exitCode = result.status === 'completed' ? EXIT.ok : result.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
    });
}

/** The CLI's side of a run session: keys from the environment, progress and notes on stderr. */
export function cliHost(flags: { quiet?: boolean }, signal: AbortSignal, progress: ProgressReporter): SessionHost {
  return {
    signal,
    secrets: envSecrets(process.env),
    baseDir: process.cwd(),
    onWarnings: printWarnings,
    onNote: (note) => printScorerNotes([note]),
    onStart: (runDir) => {
      if (!flags.quiet) process.stderr.write(`run folder: ${runDir}\n`);
    },
    onProgress: (p) => progress.update(p),
    afterComplete: (runDir, items) => writeViewerCache(runDir, {}, items),
  };
}

function cliBackend(ref: BackendRef, flags: RunFlags): SessionBackend {
  const maxResponseBytes = flags.maxResponseMb * 1024 * 1024;
  return { ref, label: ref.kind, open: ({ requestTimeoutMs, concurrency }) =>
      createBackend(ref, { requestTimeoutMs, env: backendEnv(flags), maxResponseBytes, engineCacheMiB: flags.engineCacheMb, engineThreads: flags.engineThreads, engineFma: flags.engineFma, concurrency }),
  };
}

function printWarnings(warnings: string[]): void {
  for (const w of warnings.slice(0, 10)) process.stderr.write(`warning: ${w}\n`);
  if (warnings.length > 10) process.stderr.write(`warning: … and ${warnings.length - 10} more warnings\n`);
}

/** --no-cache: none; --cache-dir: that folder; else the session's rule (beside the runs folder). */
const cacheDirOf = (flags: RunFlags) => (flags.cache ? flags.cacheDir : null);

export async function withProgress(flags: { quiet?: boolean }, body: (progress: ProgressReporter) => Promise<RunResult>): Promise<RunResult> {
  const progress = createProgressReporter(process.stderr, flags.quiet === true);
  try {
    return await body(progress);
  } finally {
    progress.done();
  }
}

function start(file: string, flags: RunFlags, signal: AbortSignal): Promise<RunResult> {
  const request: StartRequest = {
    file,
    preset: flags.preset,
    rounds: flags.rounds,
    limit: flags.limit,
    outDir: flags.out,
    concurrency: flags.concurrency,
    requestTimeoutMs: Math.round(flags.requestTimeout * 1000),
    cacheDir: cacheDirOf(flags),
    backend: (experiment) => {
      announce(checkKeyConsent(experiment, flags));
      return cliBackend(resolveBackendRef(flags, experiment.backend), flags);
    },
  };
  return withProgress(flags, (progress) => runSession({ start: request }, cliHost(flags, signal, progress)));
}

function resume(runDir: string, flags: RunFlags, cmd: Command, signal: AbortSignal): Promise<RunResult> {
  const fromCli = (opt: string) => cmd.getOptionValueSource(opt) === 'cli';
  // only settings that do not change the science may differ on resume
  for (const opt of ['preset', 'backend', 'model', 'rounds', 'limit']) {
    if (fromCli(opt)) throw new SclabError('config', `--${opt.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot change on --resume: the run keeps the settings in its manifest`);
  }
  const request: ResumeRequest = {
    runDir,
    concurrency: fromCli('concurrency') ? flags.concurrency : undefined,
    maxRpm: flags.maxRpm,
    maxTpm: flags.maxTpm,
    requestTimeoutMs: fromCli('requestTimeout') ? Math.round(flags.requestTimeout * 1000) : undefined,
    cacheDir: cacheDirOf(flags),
    backend: (manifest) => {
      // the manifest keeps only the public URL; the same URL with its credentials may be given again
      if (flags.baseUrl !== undefined && publicUrlOf(flags.baseUrl) !== manifest.backend.baseUrl) {
        throw new SclabError('config', `--base-url cannot change on --resume: this run used ${manifest.backend.baseUrl ?? 'no base URL'} (give the same URL, with its credentials if it had any)`);
      }
      // a run folder may come from a cloned repository too: its manifest gets no more say over keys than a file
      announce(checkKeyConsent(manifest.experiment, { ...flags, baseUrl: flags.baseUrl ?? manifest.backend.baseUrl }));
      return cliBackend({ ...backendRefFromManifest(manifest, flags.apiKeyEnv), ...(flags.baseUrl !== undefined ? { baseUrl: flags.baseUrl } : {}) }, flags);
    },
  };
  return withProgress(flags, (progress) => runSession({ resume: request }, cliHost(flags, signal, progress)));
}

/** printed even with --quiet: where a key goes is never a detail */
function announce(notes: string[]): void {
  for (const n of notes) process.stderr.write(`sclab: note: ${n}\n`);
}

function printResult(r: RunResult, json: boolean): void {
  const counts = r.manifest.counts;
  if (json) {
    const out = { runDir: r.runDir, status: r.status, counts, error: r.error ? { code: r.error.code, message: messageIn(r.error, CLI_REMEDY_WORDS) } : undefined };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(`${r.status}: ${counts.recorded}/${counts.planned} records (${counts.errors} errors, ${counts.cached} cached)\n${r.runDir}\n`);
  if (r.error) process.stderr.write(`sclab: ${r.error.code}: ${messageIn(r.error, CLI_REMEDY_WORDS)}\n`);
  if (r.status === 'cancelled' || r.status === 'failed') process.stderr.write(`resume with: sclab run --resume ${r.runDir}\n`);
}
