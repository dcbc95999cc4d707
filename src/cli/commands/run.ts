import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { applyFilter, loadDataset } from '../../core/datasets';
import { SclabError } from '../../core/model/errors';
import { prepareExperiment } from '../../core/runner/prepare';
import { checkDatasetUnchanged, resumeRun, startRun, type RunResult } from '../../core/runner/run';
import { readManifest } from '../../core/runner/store';
import { publicUrlOf } from '../../core/runner/public-experiment';
import { checkKeyConsent } from '../key-consent';
import { backendRefFromManifest, createBackend, resolveBackendRef } from '../backend-from-flags';
import { EXIT } from '../exit';
import { createProgressReporter } from '../progress';
import { roundExtensionsFor } from '../round-extensions';
import { withSigint } from '../signals';

export function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
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

export function defaultCacheDir(out: string): string {
  return path.join(path.dirname(path.resolve(out)), 'cache');
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

async function start(file: string, flags: RunFlags, signal: AbortSignal): Promise<RunResult> {
  const prepared = await prepareExperiment({ file, preset: flags.preset, rounds: flags.rounds, limit: flags.limit, signal });
  for (const w of prepared.warnings.slice(0, 10)) process.stderr.write(`warning: ${w}\n`);
  if (prepared.warnings.length > 10) process.stderr.write(`warning: … and ${prepared.warnings.length - 10} more warnings\n`);
  announce(checkKeyConsent(prepared.experiment, flags));
  const ref = resolveBackendRef(flags, prepared.experiment.backend);
  const requestTimeoutMs = Math.round(flags.requestTimeout * 1000);
  const backend = await createBackend(ref, { requestTimeoutMs, env: backendEnv(flags), maxResponseBytes: flags.maxResponseMb * 1024 * 1024, engineCacheMiB: flags.engineCacheMb });
  const progress = createProgressReporter(process.stderr, flags.quiet === true);
  const extensions = roundExtensionsFor(prepared.experiment);
  try {
    return await startRun({
      outDir: flags.out,
      experiment: { ...prepared.experiment, backend: { ...ref } },
      dataset: prepared.dataset,
      items: prepared.items,
      backend,
      settings: { concurrency: flags.concurrency, maxRpm: ref.maxRpm, maxTpm: ref.maxTpm, requestTimeoutMs, cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir(flags.out)) : null },
      signal,
      extensions: extensions.build,
      onStart: (runDir) => {
        if (!flags.quiet) process.stderr.write(`run folder: ${runDir}\n`);
      },
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.done();
    await extensions.close();
    await backend.close();
  }
}

async function resume(runDir: string, flags: RunFlags, cmd: Command, signal: AbortSignal): Promise<RunResult> {
  const manifest = await readManifest(runDir);
  // only settings that do not change the science may differ on resume
  for (const opt of ['preset', 'backend', 'model', 'rounds', 'limit']) {
    if (cmd.getOptionValueSource(opt) === 'cli') throw new SclabError('config', `--${opt.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot change on --resume: the run keeps the settings in its manifest`);
  }
  // the manifest keeps only the public URL; the same URL with its credentials may be given again
  if (flags.baseUrl !== undefined && publicUrlOf(flags.baseUrl) !== manifest.backend.baseUrl) {
    throw new SclabError('config', `--base-url cannot change on --resume: this run used ${manifest.backend.baseUrl ?? 'no base URL'} (give the same URL, with its credentials if it had any)`);
  }
  const loaded = await loadDataset(manifest.dataset.path, { format: manifest.dataset.format as never, signal });
  checkDatasetUnchanged(manifest, loaded.sha256);
  const items = applyFilter(loaded.items, manifest.experiment.dataset.filter, manifest.experiment.dataset.limit);
  // a run folder may come from a cloned repository too: its manifest gets no more say over keys than a file
  announce(checkKeyConsent(manifest.experiment, { ...flags, baseUrl: flags.baseUrl ?? manifest.backend.baseUrl }));
  const ref = { ...backendRefFromManifest(manifest.backend, flags.apiKeyEnv ?? manifest.experiment.backend?.apiKeyEnv), ...(flags.baseUrl !== undefined ? { baseUrl: flags.baseUrl } : {}) };
  const requestTimeoutMs = cmd.getOptionValueSource('requestTimeout') === 'cli' ? Math.round(flags.requestTimeout * 1000) : manifest.settings.requestTimeoutMs;
  const backend = await createBackend(ref, { requestTimeoutMs, env: backendEnv(flags), maxResponseBytes: flags.maxResponseMb * 1024 * 1024, engineCacheMiB: flags.engineCacheMb });
  const progress = createProgressReporter(process.stderr, flags.quiet === true);
  const extensions = roundExtensionsFor(manifest.experiment);
  try {
    return await resumeRun({
      runDir,
      items,
      backend,
      cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir(path.dirname(path.resolve(runDir)))) : null,
      settings: {
        concurrency: cmd.getOptionValueSource('concurrency') === 'cli' ? flags.concurrency : undefined,
        maxRpm: flags.maxRpm,
        maxTpm: flags.maxTpm,
        requestTimeoutMs,
      },
      signal,
      extensions: extensions.build,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.done();
    await extensions.close();
    await backend.close();
  }
}

/** printed even with --quiet: where a key goes is never a detail */
function announce(notes: string[]): void {
  for (const n of notes) process.stderr.write(`sclab: note: ${n}\n`);
}

function printResult(r: RunResult, json: boolean): void {
  const counts = r.manifest.counts;
  if (json) {
    const out = { runDir: r.runDir, status: r.status, counts, error: r.error ? { code: r.error.code, message: r.error.message } : undefined };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(`${r.status}: ${counts.recorded}/${counts.planned} records (${counts.errors} errors, ${counts.cached} cached)\n${r.runDir}\n`);
  if (r.error) process.stderr.write(`sclab: ${r.error.code}: ${r.error.message}\n`);
  if (r.status === 'cancelled' || r.status === 'failed') process.stderr.write(`resume with: sclab run --resume ${r.runDir}\n`);
}
