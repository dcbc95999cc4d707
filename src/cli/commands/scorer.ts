// `sclab scorer …`: train the offline toxicity scorer from a labelled file, score texts with any scorer kind
// (built-in, offline file, Perspective, OpenAI moderation, generic HTTP) — for checking a scorer before a run uses
// it — and re-score a finished run's responses with another scorer, next to its old scores.
import type { Command } from 'commander';
import type { SecretProvider } from '../../core/backends/backend';
import { SclabError } from '../../core/model/errors';
import { ScorerRefSchema, type ScorerRef } from '../../core/model/experiment';
import { createScorer } from '../../core/scorers/create';
import { BUILTIN_SCORER_NAME } from '../../core/scorers/offline/builtin';
import { rescoreRun } from '../../core/scorers/rescore';
import { writeScorerFile } from '../../core/scorers/offline/file';
import { readLabelled } from '../../core/scorers/offline/labelled';
import { TRAIN_DEFAULTS, trainOfflineScorer } from '../../core/scorers/offline/train';
import { TOOL_VERSION } from '../../core/version';

/** The CLI's secrets: environment variables, read only when a scorer asks for one by name. */
export function envSecrets(env: NodeJS.ProcessEnv = process.env): SecretProvider {
  return { get: async (name) => env[name] };
}

const shownNotes = new Set<string>();
/** Prints each scorer note (e.g. the Perspective shutdown warning) once per process, on stderr. */
export function printScorerNotes(notes: readonly string[]): void {
  for (const n of notes) {
    if (shownNotes.has(n)) continue;
    shownNotes.add(n);
    process.stderr.write(`sclab: warning: ${n}\n`);
  }
}

function num(flag: string, raw: string | undefined, check: (n: number) => boolean, want: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new SclabError('config', `--${flag} ${JSON.stringify(raw)}: expected ${want}`);
  return n;
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const r4 = (x: number | null): string => (x === null ? '—' : x.toFixed(4));

interface TrainFlags {
  data: string;
  textField: string;
  labelField: string;
  positive?: string[];
  out: string;
  holdout?: string;
  seed?: string;
  l2?: string;
  classWeight?: string;
  buckets?: string;
  tf?: string;
  json?: boolean;
}

async function train(o: TrainFlags): Promise<void> {
  if (!o.out.endsWith('.json')) throw new SclabError('config', `--out ${JSON.stringify(o.out)}: expected a file name ending in .scorer.json`);
  const holdout = num('holdout', o.holdout, (n) => n >= 0 && n <= 0.9, 'a share in 0…0.9');
  const seed = num('seed', o.seed, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
  const l2 = num('l2', o.l2, (n) => n >= 0, 'a number ≥ 0');
  const buckets = num('buckets', o.buckets, (n) => Number.isInteger(n) && n >= 2 && n <= 2 ** 24 && (n & (n - 1)) === 0, 'a power of two up to 16777216');
  if (o.classWeight !== undefined && o.classWeight !== 'balanced' && o.classWeight !== 'none') throw new SclabError('config', `--class-weight ${JSON.stringify(o.classWeight)}: expected balanced or none`);
  if (o.tf !== undefined && o.tf !== 'sublinear' && o.tf !== 'binary') throw new SclabError('config', `--tf ${JSON.stringify(o.tf)}: expected sublinear or binary`);
  const spec = { textField: o.textField, labelField: o.labelField, ...(o.positive ? { positive: o.positive } : {}) };
  const { rows, bytes } = await readLabelled(o.data, spec);
  const file = trainOfflineScorer(
    rows,
    { file: o.data, bytes, ...spec, tool: `sclab ${TOOL_VERSION}` },
    {
      holdout,
      seed,
      l2,
      classWeight: o.classWeight as 'balanced' | 'none' | undefined,
      features: { ...(buckets ? { buckets } : {}), ...(o.tf ? { tf: o.tf as 'sublinear' | 'binary' } : {}) },
    },
  );
  await writeScorerFile(o.out, file);
  const t = file.training;
  if (o.json) {
    out(JSON.stringify({ out: o.out, version: `logreg-ngrams/${file.fingerprint.slice(0, 12)}`, features: file.features, training: t }));
    return;
  }
  out(`trained on ${t.trainRows} of ${t.data.rows} rows (${t.positives} positive, ${t.negatives} negative; ${t.heldOut.n} held out, seed ${t.seed})`);
  out(`held-out accuracy ${r4(t.heldOut.accuracy)}, AUC ${r4(t.heldOut.auc)}; L-BFGS ${t.iterations} iterations${t.converged ? '' : ' (not converged)'}`);
  out(`wrote ${o.out} (version logreg-ngrams/${file.fingerprint.slice(0, 12)})`);
}

interface ScoreFlags {
  scorer?: string;
  kind?: string;
  url?: string;
  model?: string;
  apiKeyEnv?: string;
  attribute?: string;
  text: string[];
  json?: boolean;
}

function refFromFlags(o: Omit<ScoreFlags, 'text'>): ScorerRef {
  if (o.scorer !== undefined && o.kind !== undefined && o.kind !== 'offline') throw new SclabError('config', '--scorer FILE is an offline scorer; do not combine it with --kind');
  const kind = o.scorer !== undefined ? 'offline' : o.kind;
  if (kind === undefined) throw new SclabError('config', `name a scorer: --scorer ${BUILTIN_SCORER_NAME} (the one built into sclab), --scorer X.scorer.json, or --kind perspective|openai-moderation|http with its options`);
  // an offline ref without a model file is the built-in scorer
  const model = o.scorer === BUILTIN_SCORER_NAME ? undefined : (o.scorer ?? o.model);
  const parsed = ScorerRefSchema.safeParse({ name: 'score', kind, model, url: o.url, apiKeyEnv: o.apiKeyEnv, attribute: o.attribute });
  if (!parsed.success) throw new SclabError('config', `--kind ${JSON.stringify(kind)}: expected perspective, openai-moderation, http or offline`);
  return parsed.data;
}

async function score(o: ScoreFlags): Promise<void> {
  const scorer = await createScorer(refFromFlags(o), { baseDir: process.cwd(), secrets: envSecrets() });
  printScorerNotes(scorer.notes);
  try {
    const scores = await scorer.score(o.text);
    if (o.json) out(JSON.stringify({ scorer: scorer.name, version: scorer.version, scores }));
    else for (const s of scores) out(s === null ? 'null' : s.toFixed(6));
  } finally {
    await scorer.close();
  }
}

interface RescoreFlags extends Omit<ScoreFlags, 'text'> {
  name?: string;
}

async function rescore(runDir: string, o: RescoreFlags): Promise<void> {
  const scorer = await createScorer(refFromFlags(o), { baseDir: process.cwd(), secrets: envSecrets() });
  printScorerNotes(scorer.notes);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const r = await rescoreRun({
      runDir,
      scorer,
      key: o.name,
      signal: ac.signal,
      onProgress: o.json ? undefined : (done, total) => process.stderr.write(`\rsclab: re-scored ${done}/${total}`),
    });
    if (!o.json && r.scored > 0) process.stderr.write('\n');
    if (o.json) out(JSON.stringify({ runDir, ...r }));
    else out(`"${r.key}": ${r.scored} responses scored by ${r.scorer}@${r.version}${r.resumed ? `, ${r.resumed} already scored` : ''}${r.untouched ? `, ${r.untouched} records without a response left as they are` : ''}; compare with: sclab report ${runDir}  or  sclab view ${runDir}`);
  } finally {
    process.off('SIGINT', onSigint);
    await scorer.close();
  }
}

export function registerScorerCommand(program: Command): void {
  const cmd = program.command('scorer').description('Toxicity scorers: train an offline scorer from a labelled file, score texts with any scorer, or re-score a finished run next to its old scores.');

  cmd
    .command('train')
    .description('Train the offline scorer (logistic regression over hashed word 1–2-grams and character 3–5-grams) from a labelled CSV, TSV or JSONL file.')
    .requiredOption('--data <file>', 'labelled file (.csv, .tsv with a header row, or .jsonl)')
    .requiredOption('--text-field <name>', 'column or field with the text (JSONL: dotted paths such as prompt.text work)')
    .requiredOption('--label-field <name>', 'column or field with the label')
    .option('--positive <values...>', 'label values that mean toxic (default: 1/true toxic, 0/false not)')
    .requiredOption('--out <file>', 'where to write the scorer (X.scorer.json)')
    .option('--holdout <share>', `share held out for accuracy and AUC, stratified (default ${TRAIN_DEFAULTS.holdout})`)
    .option('--seed <n>', `split seed (default ${TRAIN_DEFAULTS.seed})`)
    .option('--l2 <lambda>', `L2 strength (default ${TRAIN_DEFAULTS.l2})`)
    .option('--class-weight <w>', `balanced or none (default ${TRAIN_DEFAULTS.classWeight})`)
    .option('--buckets <n>', 'hash buckets, a power of two (default 262144)')
    .option('--tf <mode>', 'sublinear (1 + ln count, default) or binary')
    .option('--json', 'print the training report as JSON')
    .action(train);

  cmd
    .command('score')
    .description('Score texts with a scorer; prints one score per text (null: not scored).')
    .option('--scorer <file>', `an offline scorer file (X.scorer.json), or "${BUILTIN_SCORER_NAME}" for the one built into sclab`)
    .option('--kind <kind>', 'perspective, openai-moderation or http (instead of --scorer)')
    .option('--url <url>', 'http: the endpoint; perspective/openai-moderation: another base URL')
    .option('--model <name>', 'openai-moderation: the model (default omni-moderation-latest)')
    .option('--api-key-env <name>', 'environment variable holding the key (perspective: PERSPECTIVE_API_KEY, openai-moderation: OPENAI_API_KEY)')
    .option('--attribute <name>', 'perspective: TOXICITY…; openai-moderation: toxicity, max or a category; http: key or JSON pointer')
    .requiredOption('--text <texts...>', 'one or more texts to score')
    .option('--json', 'print {scorer, version, scores} as JSON')
    .action(score);

  cmd
    .command('rescore <runDir>')
    .description('Score a generation run\'s responses again with another scorer (e.g. offline instead of Perspective), under a new key next to the old scores (never over them). Crash-safe: rerun the same command to continue.')
    .option('--scorer <file>', `an offline scorer file (X.scorer.json), or "${BUILTIN_SCORER_NAME}" for the one built into sclab`)
    .option('--kind <kind>', 'perspective, openai-moderation or http (instead of --scorer)')
    .option('--url <url>', 'http: the endpoint; perspective/openai-moderation: another base URL')
    .option('--model <name>', 'openai-moderation: the model (default omni-moderation-latest)')
    .option('--api-key-env <name>', 'environment variable holding the key')
    .option('--attribute <name>', 'perspective: TOXICITY…; openai-moderation: toxicity, max or a category; http: key or JSON pointer')
    .option('--name <key>', 'the key the new scores go under (default: toxicity when the run has no toxicity scores, else toxicity-<kind>, e.g. toxicity-offline)')
    .option('--json', 'print {runDir, key, scorer, version, scored, resumed, untouched} as JSON')
    .action(rescore);
}
