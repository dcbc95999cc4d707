// npm run train:scorer — trains the toxicity scorer shipped with sclab and writes its weights to
// src/core/scorers/offline/builtin/sclab-toxicity.scorer.json (the shipped file is this script's output).
//
// Training data (the whole datasets: $SCLAB_DATASETS, else ../shared/datasets beside the checkout):
//   - the Jigsaw Toxic Comment sample (5,000 Wikipedia talk-page comments, label `toxic`),
//   - Davidson et al.'s tweets (24,783; hate speech or offensive = toxic, neither = not),
//   - the Perspective API toxicity RealToxicityPrompts recorded, for the prompts and continuations of the rows on
//     the training side of a seeded split (reference.ts), as soft targets.
// Agreement with Perspective is then measured on the held-out rows only and written into the file's model card,
// so the ρ the report and the viewer quote is exactly this file's.
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BlendSet } from '../src/core/scorers/offline/blend';
import { trainBlend } from '../src/core/scorers/offline/blend';
import { checkScorerFile, toScorerFile, type Agreement, type ScorerAbout } from '../src/core/scorers/offline/file';
import { readLabelled } from '../src/core/scorers/offline/labelled';
import { isHeldOut, readReferenceRows, scoredParts } from '../src/core/scorers/offline/reference';
import { offlineScorerFromModel } from '../src/core/scorers/offline/scorer';
import { pearson, spearman } from '../src/core/scorers/stats';
import { TOOL_VERSION } from '../src/core/version';

const ROOT = path.resolve(__dirname, '..', '..');
const DATA = process.env.SCLAB_DATASETS ?? path.resolve(ROOT, '..', 'shared', 'datasets');
const OUT = path.join(ROOT, 'src', 'core', 'scorers', 'offline', 'builtin', 'sclab-toxicity.scorer.json');

/** bump when the training data or settings change: it is part of every score's version */
const RELEASE = '1';
const SEED = 42;
const L2 = 1e-5;
const SHARES = { jigsaw: 1, davidson: 1, rtp: 1 };

const REFERENCE = 'Perspective API TOXICITY recorded in RealToxicityPrompts (DecodingTrust toxic.jsonl + nontoxic.jsonl)';

async function main(): Promise<void> {
  const jigsawFile = path.join(DATA, 'jigsaw_toxic_sample', 'jigsaw_sample.csv');
  const davidsonFile = path.join(DATA, 'davidson_hate_offensive', 'labeled_data.csv');
  const rtpDir = path.join(DATA, 'realtoxicityprompts');
  for (const f of [jigsawFile, davidsonFile, rtpDir]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: training needs the datasets in ${DATA} (set SCLAB_DATASETS to the datasets folder)`);
  }

  const jigsaw = await readLabelled(jigsawFile, { textField: 'comment_text', labelField: 'toxic' });
  const davidson = await readLabelled(davidsonFile, { textField: 'tweet', labelField: 'class', positive: ['0', '1'] });
  const rtp = await readReferenceRows(rtpDir);
  const trainRows = rtp.rows.filter((r) => !isHeldOut(r.key, SEED));
  const heldOut = rtp.rows.filter((r) => isHeldOut(r.key, SEED));
  const rtpBytes = Buffer.concat([...rtp.bytes.values()]);

  const sets: BlendSet[] = [
    {
      source: {
        name: 'Jigsaw Toxic Comment Classification, 5,000-row sample (label toxic)',
        origin: 'github.com/NHNing3jg/ToxiScan data/sample/jigsaw_sample.csv (from Jigsaw/Conversation AI, Kaggle 2017–18)',
        licence: 'labels CC0; comment text CC BY-SA 3.0 (Wikipedia talk pages)',
        file: 'jigsaw_toxic_sample/jigsaw_sample.csv',
        target: 'labels',
        share: SHARES.jigsaw,
      },
      bytes: jigsaw.bytes,
      rows: jigsaw.rows.map((r) => ({ text: r.text, target: r.label })),
    },
    {
      source: {
        name: 'Davidson et al. 2017, Hate Speech and Offensive Language (hate or offensive = toxic)',
        origin: 'github.com/t-davidson/hate-speech-and-offensive-language data/labeled_data.csv',
        licence: 'MIT',
        file: 'davidson_hate_offensive/labeled_data.csv',
        target: 'labels',
        share: SHARES.davidson,
      },
      bytes: davidson.bytes,
      rows: davidson.rows.map((r) => ({ text: r.text, target: r.label })),
    },
    {
      source: {
        name: `RealToxicityPrompts, Perspective toxicity of prompts and continuations, training side of the seed-${SEED} split (${trainRows.length} of ${rtp.rows.length} rows)`,
        origin: 'github.com/AI-secure/DecodingTrust data/toxicity/user_prompts/{toxic,nontoxic}.jsonl (RealToxicityPrompts records)',
        licence: 'RealToxicityPrompts Apache-2.0; DecodingTrust redistribution CC BY-SA 4.0',
        file: 'realtoxicityprompts/toxic.jsonl + nontoxic.jsonl',
        target: 'reference-scores',
        share: SHARES.rtp,
      },
      bytes: rtpBytes,
      rows: trainRows.flatMap((r) => [r.prompt, r.continuation].flatMap((p) => (p.toxicity === null ? [] : [{ text: p.text, target: p.toxicity }]))),
    },
  ];

  const t0 = performance.now();
  const { model, training } = trainBlend(sets, { l2: L2, seed: SEED, tool: `sclab ${TOOL_VERSION} scripts/train-scorer.ts` });
  const trainS = (performance.now() - t0) / 1000;

  // agreement on the held-out rows, with the model as it will be loaded
  const provisional = offlineScorerFromModel(model, toScorerFile(model, training));
  const contParts = scoredParts(heldOut, 'continuation');
  const promptParts = scoredParts(heldOut, 'prompt');
  const cont = (await provisional.score(contParts.texts)) as number[];
  const prompts = (await provisional.score(promptParts.texts)) as number[];
  const agreement: Agreement = {
    reference: `${REFERENCE}: ${contParts.texts.length} continuations and ${promptParts.texts.length} prompts with a score, of the ${heldOut.length} rows held out from training (seed ${SEED})`,
    heldOutRows: heldOut.length,
    spearmanContinuations: round(spearman(cont, contParts.reference)),
    spearmanPrompts: round(spearman(prompts, promptParts.reference)),
    pearsonContinuations: round(pearson(cont, contParts.reference)),
  };
  const about: ScorerAbout = {
    id: 'sclab-toxicity',
    release: RELEASE,
    description:
      'the offline toxicity scorer shipped with sclab: L2 logistic regression over hashed word 1–2-grams and character 3–5-grams, trained on the Jigsaw sample, Davidson et al.\'s tweets and Perspective scores of RealToxicityPrompts rows',
    agreement,
    advice:
      'for numbers comparable to the paper use a stronger scorer: Perspective (until its shutdown at the end of 2026), OpenAI moderation, or a Detoxify service through the http scorer; see docs/scorers.md',
  };
  const file = toScorerFile(model, training, about);
  const text = JSON.stringify(file) + '\n';
  checkScorerFile(JSON.parse(text), OUT);
  writeFileSync(OUT, text);
  console.log(`trained in ${trainS.toFixed(0)} s (${training.iterations} L-BFGS iterations, converged ${training.converged})`);
  for (const s of training.sources) console.log(`  ${s.rows} rows, share ${s.share}: ${s.name}`);
  console.log(`held-out RTP rows: ${heldOut.length}; Spearman ρ continuations ${agreement.spearmanContinuations}, prompts ${agreement.spearmanPrompts}; Pearson r continuations ${agreement.pearsonContinuations}`);
  console.log(`wrote ${path.relative(process.cwd(), OUT)} (${(text.length / 1e6).toFixed(2)} MB, version ${offlineScorerFromModel(model, file).version})`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
