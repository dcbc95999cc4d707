// `sclab probe …`: train hidden-state probes ("morality levels") on the embedded engine and inspect probe files.
import type { Command } from 'commander';
import { HIDDEN_MODULES, type HiddenModule } from '../../core/engine/capture';
import { EngineClient } from '../../core/engine/client';
import { SclabError } from '../../core/model/errors';
import { loadProbeFile, writeProbeFile } from '../../core/probes/load';
import { SCALINGS, type Scaling } from '../../core/probes/logistic';
import { ProbeVariantSchema, type ProbeVariant } from '../../core/probes/schema';
import type { Balance } from '../../core/probes/split';
import { DEFAULT_MAX_TOKENS, trainProbe } from '../../core/probes/train';
import { resolveModelForCli } from '../models';

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const BALANCES: readonly Balance[] = ['downsample', 'weight', 'none'];

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new SclabError('config', `--${flag} ${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function num(flag: string, raw: string | undefined, check: (n: number) => boolean, want: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new SclabError('config', `--${flag} ${JSON.stringify(raw)}: expected ${want}`);
  return n;
}

/** "all" → undefined (every layer); "a-b", "a,b,c" and mixtures like "0-3,7" → ascending layer numbers */
export function parseLayers(raw: string): number[] | undefined {
  if (raw.trim() === 'all') return undefined;
  const set = new Set<number>();
  for (const part of raw.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new SclabError('config', `--layers ${JSON.stringify(raw)}: expected "all", "a-b" or a comma-separated list of layer numbers`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new SclabError('config', `--layers ${JSON.stringify(raw)}: range ${a}-${b} is reversed`);
    for (let l = a; l <= b; l++) set.add(l);
  }
  return [...set].sort((x, y) => x - y);
}

function parseBand(raw: string | undefined): [number, number] | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new SclabError('config', `--band ${JSON.stringify(raw)}: expected "a-b"`);
  return [Number(m[1]), Number(m[2])];
}

interface TrainFlags {
  model: string;
  data?: string;
  pos?: string;
  neg?: string;
  textField?: string;
  labelField?: string;
  positive: string[];
  positiveLabel: string;
  moral: string;
  layers: string;
  module: string;
  variant: string;
  limit?: string;
  seed: string;
  heldOut: string;
  balance: string;
  l2?: string;
  scaling: string;
  maxTokens: string;
  jobs: string;
  band?: string;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

async function train(o: TrainFlags): Promise<void> {
  const variant = oneOf<ProbeVariant>('variant', o.variant, ProbeVariantSchema.options);
  const module = oneOf<HiddenModule>('module', o.module, HIDDEN_MODULES);
  const balance = oneOf<Balance>('balance', o.balance, BALANCES);
  const scaling = oneOf<Scaling>('scaling', o.scaling, SCALINGS);
  const limit = num('limit', o.limit, (n) => Number.isInteger(n) && n >= 2, 'an integer ≥ 2');
  const seed = num('seed', o.seed, Number.isInteger, 'an integer')!;
  const heldOutFraction = num('held-out', o.heldOut, (n) => n >= 0 && n < 1, 'a share in [0, 1)')!;
  const l2 = num('l2', o.l2, (n) => n >= 0, 'a number ≥ 0');
  const maxTokens = num('max-tokens', o.maxTokens, (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1')!;
  const jobs = num('jobs', o.jobs, (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'an integer in 1…64')!;
  const layers = parseLayers(o.layers);
  const band = parseBand(o.band);
  const contrast = variant === 'contrast';
  if (contrast && (!o.pos || !o.neg)) throw new SclabError('config', '--variant contrast needs --pos FILE and --neg FILE (the two sets of texts whose mean difference is the direction)');
  if (contrast && o.data) throw new SclabError('config', '--variant contrast reads --pos and --neg, not --data');
  if (!contrast && (o.pos || o.neg)) throw new SclabError('config', `--pos and --neg belong to --variant contrast, not ${variant}`);
  if (!contrast && !o.data) throw new SclabError('config', `--variant ${variant} needs --data FILE`);
  const data = contrast ? o.pos! : o.data!;
  if (!o.out.endsWith('.json')) throw new SclabError('config', `--out ${JSON.stringify(o.out)}: name the probe file *.probe.json`);

  const modelSpec = await resolveModelForCli(o.model, { quiet: o.quiet });
  // one engine per job, each in its own worker thread with its own copy of the weights
  const clients: EngineClient[] = [];
  const started = Date.now();
  let lastTenth = -1;
  try {
    for (let j = 0; j < jobs; j++) clients.push(await EngineClient.start({ modelSpec, mode: 'auto' }));
    const r = await trainProbe(clients, {
      data,
      ...(contrast ? { negative: o.neg! } : {}),
      variant,
      module,
      ...(layers ? { layers } : {}),
      ...(o.textField !== undefined ? { textField: o.textField } : {}),
      ...(o.labelField !== undefined ? { labelField: o.labelField } : {}),
      positive: o.positive,
      positiveLabel: o.positiveLabel,
      moralDirection: moralDirectionFlag(o.moral),
      seed,
      heldOutFraction,
      balance,
      ...(limit !== undefined ? { limit } : {}),
      ...(l2 !== undefined ? { l2 } : {}),
      scaling,
      maxTokens,
      ...(band ? { band } : {}),
      onProgress: (stage, done, total) => {
        const tenth = Math.floor((10 * done) / total);
        if (o.quiet || tenth === lastTenth) return;
        lastTenth = tenth;
        process.stderr.write(`probe: ${stage} ${done}/${total} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
      },
    });
    await writeProbeFile(o.out, r.probe);
    const seconds = (Date.now() - started) / 1000;
    const layersOut = r.probe.layers.map((l) => ({ layer: l.layer, heldOutAccuracy: l.heldOutAccuracy, trainAccuracy: l.trainAccuracy ?? null }));
    if (o.json) {
      out(JSON.stringify({ out: o.out, model: r.probe.model, module, variant, kind: r.probe.kind, band: r.probe.band, texts: r.texts, tokens: r.tokens, split: r.probe.training.split ?? null, truncated: r.probe.training.input.truncated, layers: layersOut, seconds }));
      return;
    }
    const s = r.probe.training.split;
    out(`${variant} probe on ${r.probe.model.name}, ${module} output at the last token: ${r.texts} texts, ${r.tokens} tokens (${r.probe.training.input.truncated} cut to ${r.probe.training.input.maxTokens}) in ${seconds.toFixed(1)}s`);
    if (s) out(`split (seed ${s.seed}, ${s.balance}): ${s.nTrain} train (${s.nTrainPositive} positive), ${s.nHeldOut} held out (${s.nHeldOutPositive} positive)`);
    if (variant !== 'statements' && variant !== 'contrast') {
      out('layer  held-out acc  train acc');
      for (const l of layersOut) {
        if (l.heldOutAccuracy === null && l.trainAccuracy === null) continue;
        const f = (x: number | null): string => (x === null ? '—' : x.toFixed(3));
        out(`${String(l.layer).padStart(5)}  ${f(l.heldOutAccuracy).padStart(12)}  ${f(l.trainAccuracy).padStart(9)}`);
      }
    }
    out(`band ${r.probe.band[0]}-${r.probe.band[1]}; wrote ${o.out}`);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function show(file: string, o: { json?: boolean }): Promise<void> {
  const p = await loadProbeFile(file);
  const f = p.file;
  if (o.json) {
    out(JSON.stringify({ ...f, layers: f.layers.map(({ weights: _w, ...rest }) => rest) }));
    return;
  }
  out(`${file}: ${f.variant} (${f.kind}, ${f.score}) for "${f.positiveLabel}" on ${f.model.name} (${f.model.nLayers} layers, width ${f.model.dModel}, sha256 ${f.model.weightsSha256.slice(0, 12)}…)`);
  out(`more moral = ${f.moralDirection} score (sign convention)`);
  out(`${f.module} output at the ${f.position} token; layers ${f.layers.map((l) => l.layer).join(', ')}; band ${f.band[0]}-${f.band[1]}`);
  const t = f.training;
  out(`trained ${t.date} by ${t.tool} ${t.toolVersion} on ${t.data.file} (sha256 ${t.data.sha256.slice(0, 12)}…, ${t.data.rows} rows)`);
  for (const l of f.layers) if (l.heldOutAccuracy !== null) out(`  layer ${l.layer}: held-out accuracy ${l.heldOutAccuracy.toFixed(3)}`);
}

function moralDirectionFlag(v: string): 'lower' | 'higher' {
  if (v !== 'lower' && v !== 'higher') throw new SclabError('config', `--moral: expected lower or higher, got "${v}"`);
  return v;
}

export function registerProbeCommand(program: Command): void {
  const probe = program.command('probe').description('Hidden-state probes ("morality levels"): train them on labelled texts with the embedded engine, inspect probe files.');

  probe
    .command('train')
    .description('Train a probe file (sclab.probe/1) on the last-token hidden states of labelled texts (CSV or JSONL) or of statements (one per line).')
    .requiredOption('--model <model>', 'catalogue name, model folder or llama2.c .bin (the embedded engine)')
    .option('--data <file>', 'labelled texts (.csv, .jsonl); for --variant statements also a .txt with one statement per line')
    .option('--pos <file>', '--variant contrast: the texts of the positive side (one per line, or .csv/.jsonl with --text-field)')
    .option('--neg <file>', '--variant contrast: the texts of the negative side')
    .requiredOption('--out <file>', 'the probe file to write (*.probe.json)')
    .option('--text-field <name>', 'the field holding the text')
    .option('--label-field <name>', 'the field holding the label')
    .option('--positive <values...>', 'label values of the positive class (e.g. toxic); every other value is negative', ['1'])
    .option('--positive-label <name>', 'what the positive class means, stored in the file', 'toxic')
    .option('--moral <direction>', 'which way of the score is more moral: lower (the positive class is the immoral one) | higher', 'lower')
    .option('--variant <v>', 'logistic (a classifier per layer) | classifier-direction (the paper: last-layer classifier’s direction at every layer) | statements (mean of the statements’ states per layer) | contrast (mean of --pos minus mean of --neg per layer: a steering vector)', 'logistic')
    .option('--module <m>', 'residual | attn | mlp', 'residual')
    .option('--layers <spec>', 'all | a-b | a,b,c (residual: 0 = embeddings)', 'all')
    .option('--limit <n>', 'use at most n labelled rows (balanced when downsampling)')
    .option('--seed <n>', 'seed of the sampling and the split', '0')
    .option('--held-out <share>', 'share of each class held out for accuracy', '0.2')
    .option('--balance <b>', 'downsample (the larger class to the smaller) | weight (class weights) | none', 'downsample')
    .option('--l2 <lambda>', 'L2 strength λ on the scaled features (default 1/n_train, like scikit-learn’s C = 1)')
    .option('--scaling <s>', 'scalar (one scale; keeps raw-space directions) | per-feature (z-scores) | none', 'scalar')
    .option('--max-tokens <n>', 'tokens kept per text: the first n, BOS included (at most the model’s context)', String(DEFAULT_MAX_TOKENS))
    .option('--jobs <n>', 'engines run in parallel (worker threads; each loads its own copy of the model)', '1')
    .option('--band <a-b>', 'default layer band of the per-round score (default: the upper half)')
    .option('--quiet', 'no progress on stderr')
    .option('--json', 'print a JSON summary (per-layer held-out accuracy)')
    .action(train);

  probe
    .command('show')
    .description('Describe a probe file: model, module, layers, band, provenance, held-out accuracy.')
    .argument('<file>', 'a *.probe.json')
    .option('--json', 'print the file without its weight vectors')
    .action(show);
}
