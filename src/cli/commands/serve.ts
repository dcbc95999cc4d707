// `sclab serve`: the embedded engine behind the sidecar protocol (sclab.sidecar/1) and OpenAI-compatible routes,
// so other tools — and sclab's own openai and sidecar backends — can use a local model with exact log-probabilities
// and hidden states. Loopback by default; a token (better from the environment than on the command line) guards it.
import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { SclabError } from '../../core/model/errors';
import { loadProbeFile } from '../../core/probes/load';
import type { LoadedProbe } from '../../core/probes/probe';
import { serveEngine } from '../../core/sidecar/serve-engine';
import { DEFAULT_LIMITS } from '../../core/sidecar/server';
import { resolveModelForCli } from '../models';
import { withSigint } from '../signals';

interface ServeFlags {
  model: string;
  name?: string;
  port: number;
  host: string;
  token?: string;
  tokenEnv?: string;
  allowNoToken?: boolean;
  probe?: string[];
  maxBodyMb: number;
  maxPromptChars: number;
  log?: boolean;
}

function intIn(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be an integer in ${lo}…${hi}`);
    return n;
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function tokenFrom(o: ServeFlags): string | undefined {
  if (o.token !== undefined && o.tokenEnv !== undefined) throw new SclabError('config', 'give --token or --token-env, not both');
  if (o.tokenEnv !== undefined) {
    const t = process.env[o.tokenEnv];
    if (!t) throw new SclabError('config', `--token-env ${o.tokenEnv}: the variable is unset or empty`);
    return t;
  }
  if (o.token !== undefined && o.token.trim() === '') throw new SclabError('config', '--token is empty');
  return o.token;
}

async function loadProbes(files: string[]): Promise<Map<string, LoadedProbe>> {
  const out = new Map<string, LoadedProbe>();
  for (const f of files) {
    const id = path.basename(f).replace(/\.probe\.json$/i, '').replace(/\.json$/i, '');
    if (out.has(id)) throw new SclabError('config', `--probe ${f}: another probe already has the id "${id}"`);
    out.set(id, await loadProbeFile(f));
  }
  return out;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve a model through the sidecar protocol (hidden states, probe scores, log-likelihoods) and OpenAI-compatible /v1/chat/completions and /v1/completions; see docs/sidecar-protocol.md')
    .requiredOption('--model <path>', 'catalogue name, model folder or llama2.c .bin')
    .option('--name <id>', 'the model name clients use (default: the engine\'s name for it); match the generation server\'s name')
    .option('--port <n>', 'TCP port (0: any free one)', intIn('--port', 0, 65535), 8765)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--token <token>', 'require Authorization: Bearer <token> (prefer --token-env: command lines are visible to other users)')
    .option('--token-env <name>', 'environment variable holding the token')
    .option('--allow-no-token', 'listen on a non-loopback address without a token')
    .option('--probe <file...>', 'probe files clients may name by id (the file name without .probe.json)')
    .option('--max-body-mb <n>', 'largest request body in MiB', intIn('--max-body-mb', 1, 1024), DEFAULT_LIMITS.maxBodyBytes / 1024 / 1024)
    .option('--max-prompt-chars <n>', 'longest input text in characters', intIn('--max-prompt-chars', 1, 100_000_000), DEFAULT_LIMITS.maxPromptChars)
    .option('--log', 'one line per request on stderr (method, path, status, time; never bodies or tokens)')
    .action(async (o: ServeFlags) => {
      const token = tokenFrom(o);
      if (!LOOPBACK.has(o.host) && token === undefined && !o.allowNoToken) {
        throw new SclabError('config', `--host ${o.host} exposes the model beyond this machine: set --token-env NAME (or --token), or pass --allow-no-token`);
      }
      const probes = await loadProbes(o.probe ?? []);
      const modelSpec = await resolveModelForCli(o.model);
      const server = await serveEngine({
        modelSpec,
        host: o.host,
        port: o.port,
        mode: 'auto',
        probes,
        limits: { maxBodyBytes: o.maxBodyMb * 1024 * 1024, maxPromptChars: o.maxPromptChars },
        ...(o.name ? { modelName: o.name } : {}),
        ...(token !== undefined ? { token } : {}),
        ...(o.log ? { log: (line: string) => void process.stderr.write(`${line}\n`) } : {}),
      });
      const i = server.info;
      process.stderr.write(
        `sclab serve: model "${i.model}" (${i.n_layers} layers, width ${i.d_model})${token ? ', bearer token required' : ''}\n` +
          `  sidecar protocol ${i.protocol}: ${server.url}  (GET /v1/info)\n` +
          `  OpenAI-compatible base URL:  ${server.url}/v1\n` +
          (probes.size ? `  probes: ${[...probes.keys()].join(', ')}\n` : '') +
          '  Ctrl-C stops it.\n',
      );
      // machine-readable first line on stdout, for scripts that start a server on port 0
      process.stdout.write(`${JSON.stringify({ url: server.url, model: i.model })}\n`);
      await withSigint((signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })));
      await server.close();
    });
}
