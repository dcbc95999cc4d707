// bench:scorer — how far the offline scorer (trained here, in process) agrees with the Perspective API scores that
// RealToxicityPrompts recorded. Trains on ../shared/datasets/jigsaw_toxic_sample (all 5,000 rows, toxic column,
// classes balanced by weight, 20% held out), then scores the continuations and the prompts of both RTP files
// (toxic.jsonl + nontoxic.jsonl, 2,396 rows) and prints Spearman's ρ (and Pearson's r) against
// continuation.toxicity / prompt.toxicity. Also: AUC against Perspective ≥ 0.5 as the label, and the same figures
// for the unbalanced variant and for a scorer trained on Davidson et al.'s tweets.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { offlineScorerFromModel } from '../src/core/scorers/offline/scorer';
import { parseScorerFile } from '../src/core/scorers/offline/file';
import { readLabelled, type LabelledSpec } from '../src/core/scorers/offline/labelled';
import { trainOfflineScorer, type TrainOptions } from '../src/core/scorers/offline/train';
import { pearson, rocAuc, spearman } from '../src/core/scorers/stats';

// the whole datasets, found as the tests find them: SCLAB_DATASETS, else ../shared/datasets beside the checkout
const DATA = process.env.SCLAB_DATASETS ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'datasets');

interface RtpRow {
  file: string;
  prompt: { text: string; toxicity: number };
  continuation: { text: string; toxicity: number };
}

function readRtp(): RtpRow[] {
  const rows: RtpRow[] = [];
  for (const f of ['toxic.jsonl', 'nontoxic.jsonl']) {
    for (const line of readFileSync(path.join(DATA, 'realtoxicityprompts', f), 'utf8').split('\n')) {
      if (line.trim()) rows.push({ ...(JSON.parse(line) as RtpRow), file: f });
    }
  }
  return rows;
}

async function trainOn(file: string, spec: LabelledSpec, opts: TrainOptions) {
  const { rows, bytes } = await readLabelled(file, spec);
  const t0 = performance.now();
  const content = trainOfflineScorer(rows, { file, bytes, ...spec, tool: 'bench' }, opts);
  const trainMs = performance.now() - t0;
  // round trip through the file format, as a user's scorer would be loaded
  const { file: f, model } = parseScorerFile(JSON.stringify(content), file);
  return { scorer: offlineScorerFromModel(model, f.fingerprint), info: f.training, trainMs };
}

function fmt(x: number | null): string {
  return x === null || Number.isNaN(x) ? '—' : x.toFixed(3);
}

async function main(): Promise<void> {
  const rtp = readRtp();
  const contTexts = rtp.map((r) => r.continuation.text);
  const contTox = rtp.map((r) => r.continuation.toxicity);
  const promptTexts = rtp.map((r) => r.prompt.text);
  const promptTox = rtp.map((r) => r.prompt.toxicity);
  console.log(`RealToxicityPrompts: ${rtp.length} rows (toxic.jsonl + nontoxic.jsonl)`);

  const jigsaw = path.join(DATA, 'jigsaw_toxic_sample', 'jigsaw_sample.csv');
  const davidson = path.join(DATA, 'davidson_hate_offensive', 'labeled_data.csv');
  const variants: Array<{ label: string; file: string; spec: LabelledSpec; opts: TrainOptions }> = [
    { label: 'jigsaw, all 5000 rows, balanced class weights (default)', file: jigsaw, spec: { textField: 'comment_text', labelField: 'toxic' }, opts: {} },
    { label: 'jigsaw, all 5000 rows, unweighted', file: jigsaw, spec: { textField: 'comment_text', labelField: 'toxic' }, opts: { classWeight: 'none' } },
  ];
  if (!process.env.BENCH_QUICK) {
    variants.push({ label: 'davidson tweets (class 0/1 toxic), balanced', file: davidson, spec: { textField: 'tweet', labelField: 'class', positive: ['0', '1'] }, opts: {} });
  }
  console.log('');
  console.log('training set | held-out acc | held-out AUC | ρ continuations | r continuations | AUC cont. (Persp ≥ 0.5) | ρ prompts | train s | score texts/s');
  for (const v of variants) {
    const { scorer, info, trainMs } = await trainOn(v.file, v.spec, v.opts);
    const t0 = performance.now();
    const cont = (await scorer.score(contTexts)) as number[];
    const scoreMs = performance.now() - t0;
    const prompts = (await scorer.score(promptTexts)) as number[];
    if (cont.some((x) => x === null) || prompts.some((x) => x === null)) throw new Error('an RTP text was not scored');
    const contLabels = contTox.map((t) => (t >= 0.5 ? 1 : 0));
    console.log(
      [
        v.label,
        fmt(info.heldOut.accuracy),
        fmt(info.heldOut.auc),
        fmt(spearman(cont, contTox)),
        fmt(pearson(cont, contTox)),
        fmt(rocAuc(cont, contLabels)),
        fmt(spearman(prompts, promptTox)),
        (trainMs / 1000).toFixed(1),
        Math.round(contTexts.length / (scoreMs / 1000)).toString(),
      ].join(' | '),
    );
    const within = ['toxic.jsonl', 'nontoxic.jsonl'].map((f) => {
      const idx = rtp.map((r, i) => (r.file === f ? i : -1)).filter((i) => i >= 0);
      return `${f} ${fmt(spearman(idx.map((i) => cont[i]!), idx.map((i) => contTox[i]!)))}`;
    });
    console.log(`   ρ on continuations within one file: ${within.join(', ')}`);
    console.log(`   (${info.trainRows} training rows, ${info.heldOut.n} held out, ${info.iterations} L-BFGS iterations, converged ${info.converged}, version ${scorer.version})`);
  }
  console.log('');
  console.log(`continuations with Perspective toxicity ≥ 0.5: ${contTox.filter((t) => t >= 0.5).length} of ${contTox.length}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
