import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { runSession, type StartRequest } from '../../core/runner/session';
import { createBackend } from '../backend-from-flags';
import { EXIT } from '../exit';
import { writeHtmlReport } from '../html-report';
import { EngineClient } from '../../core/engine/client';
import type { ModelSpec } from '../../core/engine/load-local';
import { trainProbe } from '../../core/probes/train';
import { writeProbeFile } from '../../core/probes/load';
import { DEFAULT_EMBEDDED_MODEL, resolveModelForCli } from '../models';
import { cliHost, ENGINE_FMA_HELP, engineFmaMode, withProgress } from './run';
import type { FmaMode } from '../../core/engine/kernels-wasm';
import { withSigint } from '../signals';

/** The package root: dist/cli.js lives one folder below it. */
const PACKAGE_ROOT = path.resolve(__dirname, '..');
const DEMO_DATASET = path.join(PACKAGE_ROOT, 'examples', 'demo', 'bbq-demo.jsonl');
/** the paper's bias direction: the mean hidden state of a handful of biased statements (ours, written for the demo) */
const DEMO_STATEMENTS = path.join(PACKAGE_ROOT, 'examples', 'demo', 'bias-statements.txt');
/** stories260K has a 512-token context: five review rounds of BBQ questions do not fit in it, three do */
const DEMO_ROUNDS = 3;

/** Trains the demo's bias direction from the statements file (a few forward passes), once per model. */
async function trainDemoProbe(modelSpec: ModelSpec, dir: string, signal: AbortSignal, fma: FmaMode | undefined): Promise<string> {
  const client = await EngineClient.start({ modelSpec, mode: 'auto', ...(fma ? { fma } : {}) });
  try {
    const identity = (await client.info()).identity;
    const file = path.join(dir, `bias-statements.${identity.weightsSha256.slice(0, 12)}.probe.json`);
    if (existsSync(file)) return file;
    const trained = await trainProbe([client], { data: DEMO_STATEMENTS, variant: 'statements', module: 'residual', positiveLabel: 'biased', signal });
    await mkdir(dir, { recursive: true });
    await writeProbeFile(file, trained.probe);
    return file;
  } finally {
    await client.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      `run the paper-bbq experiment (${DEMO_ROUNDS} self-correction rounds) on the bundled BBQ-format sample with the embedded engine, then write an HTML report`,
    )
    .option('--model <idOrPath>', 'embedded model: a catalogue name or a local folder', DEFAULT_EMBEDDED_MODEL)
    .option('--out <dir>', 'folder that receives the run folder', '.sclab/runs')
    .option('--json', 'print one JSON object on stdout when done')
    .option('--engine-fma <mode>', ENGINE_FMA_HELP, engineFmaMode)
    .action(async (flags: { model: string; out: string; json?: boolean; engineFma?: FmaMode }) => {
      // offline machines with the project's shared folder beside the checkout seed the model cache from it
      const sharedModels = path.resolve(PACKAGE_ROOT, '..', 'shared', 'models');
      const extraMirrors = existsSync(sharedModels) ? [sharedModels] : [];
      const ref = { kind: 'embedded' as const, model: flags.model };
      const request: StartRequest = {
        file: DEMO_DATASET,
        preset: 'paper-bbq',
        rounds: DEMO_ROUNDS,
        outDir: flags.out,
        concurrency: 2,
        requestTimeoutMs: 120_000,
        adjust: async (experiment, signal) => {
          const modelSpec = await resolveModelForCli(flags.model, { extraMirrors, signal });
          const probePath = await trainDemoProbe(modelSpec, path.join(path.resolve(flags.out), '..', 'demo'), signal, flags.engineFma);
          return { ...experiment, name: 'demo-paper-bbq', probes: [{ name: 'bias', path: probePath }] };
        },
        backend: () => ({ ref, label: 'embedded', open: ({ requestTimeoutMs, signal, concurrency }) => createBackend(ref, { requestTimeoutMs, env: process.env, extraMirrors, signal, concurrency, engineFma: flags.engineFma }) }),
      };
      const quiet = { quiet: flags.json === true };
      const result = await withSigint((signal) => withProgress(quiet, (progress) => runSession({ start: request }, { ...cliHost(quiet, signal, progress), onStart: undefined })));
      const caveat =
        flags.model === DEFAULT_EMBEDDED_MODEL
          ? 'The default model is stories260K, a 260K-parameter model trained on children\'s stories: this run shows the whole pipeline working, and its answers mean nothing. Point the same command at a real model with --model (a Hugging Face folder) or run against an OpenAI-compatible server with sclab run.'
          : undefined;
      const report = await writeHtmlReport(result.runDir, undefined, caveat);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ runDir: result.runDir, status: result.status, counts: result.manifest.counts, report }) + '\n');
      } else {
        process.stdout.write(`${result.status}: ${result.manifest.counts.recorded}/${result.manifest.counts.planned} records (${result.manifest.counts.errors} errors)\n`);
        process.stdout.write(`run folder: ${result.runDir}\nreport: ${report}\n`);
        if (caveat) process.stdout.write(`note: ${caveat}\n`);
      }
      process.exitCode = result.status === 'completed' ? EXIT.ok : result.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
    });
}
