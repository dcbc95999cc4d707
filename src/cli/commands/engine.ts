// `sclab engine …`: direct access to the embedded engine — generate text, score a text token by token, read the
// residual stream of every layer. For checking a model before running experiments on it.
import type { Command } from 'commander';
import { SclabError } from '../../core/model/errors';
import { HIDDEN_CONVENTIONS, HIDDEN_MODULES, HIDDEN_POSITIONS, type HiddenConvention, type HiddenModule, type HiddenPosition } from '../../core/engine/capture';
import { EngineClient } from '../../core/engine/client';
import { resolveModelForCli } from '../models';

interface ModelFlag {
  model: string;
  json?: boolean;
}

function parseNumber(flag: string, raw: string | undefined, check: (n: number) => boolean, want: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new SclabError('config', `--${flag} ${JSON.stringify(raw)}: expected ${want}`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new SclabError('config', `--${flag} ${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

async function withEngine<T>(model: string, fn: (client: EngineClient) => Promise<T>): Promise<T> {
  const modelSpec = await resolveModelForCli(model);
  const client = await EngineClient.start({ modelSpec, mode: 'auto' });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** ids of text as the model reads it: BOS first when the model uses one */
async function inputIds(client: EngineClient, text: string): Promise<number[]> {
  const ids = (await client.tokenize([text]))[0]!;
  if (ids.length === 0) throw new SclabError('config', 'the text is empty and the model has no BOS token: nothing to run');
  return ids;
}

const MODEL_HELP = 'catalogue name, model folder or llama2.c .bin';
const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

export function registerEngineCommand(program: Command): void {
  const engine = program.command('engine').description('Run the embedded engine directly on a model: a catalogue name (e.g. stories260K), a model folder or a llama2.c .bin.');

  engine
    .command('generate')
    .description('Generate a continuation of a prompt (greedy by default).')
    .requiredOption('--model <path>', MODEL_HELP)
    .option('--prompt <text>', 'prompt text (empty: start from BOS only)', '')
    .option('--max-tokens <n>', 'tokens to generate at most', '64')
    .option('--temperature <t>', '0 = greedy', '0')
    .option('--top-p <p>', 'nucleus sampling mass', '1')
    .option('--seed <n>', 'PRNG seed for sampling')
    .option('--json', 'print JSON: text, tokens, finishReason, logprobs, seed')
    .action(async (o: ModelFlag & { prompt: string; maxTokens: string; temperature: string; topP: string; seed?: string }) => {
      const maxTokens = parseNumber('max-tokens', o.maxTokens, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0')!;
      const temperature = parseNumber('temperature', o.temperature, (n) => n >= 0 && n <= 2, 'a number in 0…2')!;
      const topP = parseNumber('top-p', o.topP, (n) => n > 0 && n <= 1, 'a number in (0, 1]')!;
      const seed = parseNumber('seed', o.seed, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
      await withEngine(o.model, async (client) => {
        const ids = await inputIds(client, o.prompt);
        const r = await client.generate(ids, { maxTokens, temperature, topP, ...(seed !== undefined ? { seed } : {}) });
        if (o.json) out(JSON.stringify({ text: r.text, tokens: r.tokens, finishReason: r.finishReason, logprobs: r.logprobs.map(round), seed: r.seed }));
        else out(o.prompt + r.text);
      });
    });

  engine
    .command('score')
    .description('Log-probability of each token of a text given everything before it.')
    .requiredOption('--model <path>', MODEL_HELP)
    .requiredOption('--text <text>', 'text to score')
    .option('--json', 'print JSON: tokens (ids after BOS), logprobs, total')
    .action(async (o: ModelFlag & { text: string }) => {
      await withEngine(o.model, async (client) => {
        const ids = await inputIds(client, o.text);
        // With BOS the first text token is scored after BOS; without one, the first token has no context.
        const tokens = ids.slice(1);
        const [s] = await client.score(ids.slice(0, 1), [tokens]);
        if (o.json) {
          out(JSON.stringify({ tokens, logprobs: s!.logprobs, total: s!.total }));
          return;
        }
        for (let i = 0; i < tokens.length; i++) out(`${String(tokens[i]).padStart(6)}  ${s!.logprobs[i]!.toFixed(4).padStart(9)}  ${JSON.stringify(await client.decode([tokens[i]!]))}`);
        out(`total ${s!.total.toFixed(4)} over ${tokens.length} tokens`);
      });
    });

  engine
    .command('hidden')
    .description('The residual stream (embeddings, then after each layer) at a position of a text.')
    .requiredOption('--model <path>', MODEL_HELP)
    .requiredOption('--text <text>', 'input text')
    .option('--position <p>', `${HIDDEN_POSITIONS.join(' | ')}`, 'last')
    .option('--module <m>', `${HIDDEN_MODULES.join(' | ')} (attn and mlp have no embeddings entry)`, 'residual')
    .option('--convention <c>', "sclab (all un-normed) | hf (final norm on the last entry, like output_hidden_states)", 'sclab')
    .option('--json', 'print JSON: layers (one vector per entry; per token for --position all)')
    .action(async (o: ModelFlag & { text: string; position: string; module: string; convention: string }) => {
      const position = oneOf<HiddenPosition>('position', o.position, HIDDEN_POSITIONS);
      const module = oneOf<HiddenModule>('module', o.module, HIDDEN_MODULES);
      const convention = oneOf<HiddenConvention>('convention', o.convention, HIDDEN_CONVENTIONS);
      await withEngine(o.model, async (client) => {
        const ids = await inputIds(client, o.text);
        const h = await client.hidden(ids, { position, modules: [module], convention });
        const vectors = h[module]!;
        const rows = (v: Float32Array): number[][] => Array.from({ length: v.length / h.dim }, (_, t) => Array.from(v.subarray(t * h.dim, (t + 1) * h.dim)));
        const layers = vectors.map((v) => (position === 'all' ? rows(v) : Array.from(v)));
        if (o.json) {
          out(JSON.stringify({ module, position, convention, dim: h.dim, nTokens: h.nTokens, layers }));
          return;
        }
        const first = module === 'residual' ? 0 : 1;
        vectors.forEach((v, i) => {
          const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / (v.length / h.dim));
          const label = module === 'residual' && i === 0 ? 'embeddings' : `layer ${i + first}`;
          out(`${label.padEnd(11)} norm ${norm.toFixed(4)}  [${Array.from(v.subarray(0, 4), (x) => x.toFixed(4)).join(', ')}, …]`);
        });
      });
    });
}
