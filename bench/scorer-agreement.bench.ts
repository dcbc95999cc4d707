// bench:scorer — how far the offline scorers agree with the Perspective API scores that RealToxicityPrompts
// recorded, all measured on the same held-out rows: the RTP rows on the held-out side of the seed-42 split
// (reference.ts; the shipped scorer never saw them), each text with a Perspective score (a few continuations have
// none). Rows of the table:
//   - before: the old default, trained here on the Jigsaw sample alone (all 5,000 rows, balanced, 20% held out);
//   - Jigsaw + Davidson labels, trained here (no Perspective scores in training);
//   - the shipped scorer (src/core/scorers/offline/builtin, `npm run train:scorer`): Jigsaw + Davidson + the
//     Perspective scores of the RTP rows on the training side.
// Prints Spearman's ρ and Pearson's r against continuation.toxicity, AUC against Perspective ≥ 0.5, ρ on prompts,
// the model file's size and texts scored per second. BENCH_QUICK=1 skips the Jigsaw + Davidson row.
import * as path from 'node:path';
import type { Scorer } from '../src/core/scorers/scorer';
import { trainBlend } from '../src/core/scorers/offline/blend';
import { builtinScorerModel } from '../src/core/scorers/offline/builtin';
import { parseScorerFile, toScorerFile } from '../src/core/scorers/offline/file';
import { readLabelled } from '../src/core/scorers/offline/labelled';
import { isHeldOut, readReferenceRows, scoredParts } from '../src/core/scorers/offline/reference';
import { offlineScorerFromModel } from '../src/core/scorers/offline/scorer';
import { trainOfflineScorer } from '../src/core/scorers/offline/train';
import { pearson, rocAuc, spearman } from '../src/core/scorers/stats';

// the whole datasets, found as the tests find them: SCLAB_DATASETS, else ../shared/datasets beside the checkout
const DATA = process.env.SCLAB_DATASETS ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'datasets');
const SEED = 42;

function fmt(x: number | null): string {
  return x === null || Number.isNaN(x) ? '—' : x.toFixed(3);
}

/**
 * Texts per second over at least a second of scoring, after one warm-up pass: per second of wall time, and per
 * second of this process's CPU time (what one core gives when the machine is shared with other work).
 */
async function throughput(scorer: Scorer, texts: string[]): Promise<{ wall: number; cpu: number }> {
  await scorer.score(texts);
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < 1000) {
    await scorer.score(texts);
    n += texts.length;
  }
  const cpu = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

async function main(): Promise<void> {
  const rtp = await readReferenceRows(path.join(DATA, 'realtoxicityprompts'));
  const heldOut = rtp.rows.filter((r) => isHeldOut(r.key, SEED));
  const cont = scoredParts(heldOut, 'continuation');
  const prompts = scoredParts(heldOut, 'prompt');
  const allCont = scoredParts(rtp.rows, 'continuation');
  console.log(`RealToxicityPrompts (toxic.jsonl + nontoxic.jsonl): ${rtp.rows.length} rows; held out (seed ${SEED}): ${heldOut.length} rows, ${cont.texts.length} continuations and ${prompts.texts.length} prompts with a Perspective score`);

  const jigsawFile = path.join(DATA, 'jigsaw_toxic_sample', 'jigsaw_sample.csv');
  const davidsonFile = path.join(DATA, 'davidson_hate_offensive', 'labeled_data.csv');
  const jigsawSpec = { textField: 'comment_text', labelField: 'toxic' };
  const davidsonSpec = { textField: 'tweet', labelField: 'class', positive: ['0', '1'] };
  const jigsaw = await readLabelled(jigsawFile, jigsawSpec);

  const variants: Array<{ label: string; make: () => Promise<{ scorer: Scorer; bytes: number }> }> = [
    {
      label: 'before: Jigsaw sample only (the old default)',
      make: async () => {
        const f = trainOfflineScorer(jigsaw.rows, { file: jigsawFile, bytes: jigsaw.bytes, ...jigsawSpec, tool: 'bench' });
        const text = JSON.stringify(f);
        const { file, model } = parseScorerFile(text, 'jigsaw');
        return { scorer: offlineScorerFromModel(model, file), bytes: text.length };
      },
    },
  ];
  if (!process.env.BENCH_QUICK) {
    variants.push({
      label: 'Jigsaw + Davidson labels (no Perspective scores in training)',
      make: async () => {
        const davidson = await readLabelled(davidsonFile, davidsonSpec);
        const source = (name: string, file: string) => ({ name, origin: file, licence: '', file, target: 'labels' as const, share: 1 });
        const { model, training } = trainBlend(
          [
            { source: source('jigsaw', jigsawFile), bytes: jigsaw.bytes, rows: jigsaw.rows.map((r) => ({ text: r.text, target: r.label })) },
            { source: source('davidson', davidsonFile), bytes: davidson.bytes, rows: davidson.rows.map((r) => ({ text: r.text, target: r.label })) },
          ],
          { l2: 1e-5, seed: SEED, tool: 'bench' },
        );
        const f = toScorerFile(model, training);
        return { scorer: offlineScorerFromModel(model, f), bytes: JSON.stringify(f).length };
      },
    });
  }
  variants.push({
    label: 'after: the shipped scorer (Jigsaw + Davidson + Perspective scores of the RTP training rows)',
    make: async () => {
      const { file, model } = builtinScorerModel();
      return { scorer: offlineScorerFromModel(model, file, { builtin: true }), bytes: JSON.stringify(file).length + 1 };
    },
  });

  console.log('');
  console.log('scorer | ρ continuations | r continuations | AUC cont. (Persp ≥ 0.5) | ρ prompts | ρ all scored continuations | model file MB | texts/s wall | texts/s CPU');
  for (const v of variants) {
    const { scorer, bytes } = await v.make();
    const c = (await scorer.score(cont.texts)) as number[];
    const p = (await scorer.score(prompts.texts)) as number[];
    const all = (await scorer.score(allCont.texts)) as number[];
    const tps = await throughput(scorer, cont.texts);
    console.log(
      [
        v.label,
        fmt(spearman(c, cont.reference)),
        fmt(pearson(c, cont.reference)),
        fmt(rocAuc(c, cont.reference.map((t) => (t >= 0.5 ? 1 : 0)))),
        fmt(spearman(p, prompts.reference)),
        fmt(spearman(all, allCont.reference)),
        (bytes / 1e6).toFixed(2),
        Math.round(tps.wall).toString(),
        Math.round(tps.cpu).toString(),
      ].join(' | '),
    );
    console.log(`   version ${scorer.version}`);
  }
  console.log('');
  console.log('"ρ all scored continuations" includes the shipped scorer\'s training rows: only the held-out columns measure it.');
  console.log('texts/s: short RTP continuations on one thread; "CPU" divides by this process\'s CPU time, so it does not drop when other work shares the machine.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
