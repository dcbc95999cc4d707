// The sanity test of issue 14: a "dog minus cat" contrast direction, added to the residual stream of stories260K at
// its middle layers, changes what the stories are about. 50 seeded stories per strength; the words are counted and
// the difference between +alpha and −alpha gets a bootstrap interval. The figures are printed for the README.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapMeanDifference } from '../../src/core/analysis/stats';
import { EngineClient } from '../../src/core/engine/client';
import { parseProbe } from '../../src/core/probes/probe';
import { interventionFromProbe } from '../../src/core/probes/steer';
import { trainProbe } from '../../src/core/probes/train';
import { STORIES_BIN, STORIES_TOK } from '../support/data';

const FIXTURE = path.resolve(__dirname, '../fixtures/steering');
const PROMPT = 'Once upon a time, there was a little';
/** stories260K has 5 layers: its middle band */
const LAYERS: [number, number] = [3, 4];
const ALPHA = 3;
const STORIES = 50;
const DOG = /^(dog|dogs|puppy|puppies)$/;
const CAT = /^(cat|cats|kitten|kittens|kitty)$/;

let client: EngineClient | null = null;
afterAll(async () => {
  await client?.close();
});

function count(text: string, word: RegExp): number {
  return (text.toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => word.test(w)).length;
}

describe('steering stories260K along a dog−cat contrast direction', () => {
  it('moves the stories towards dogs at +alpha and towards cats at −alpha (bootstrap interval excludes 0)', async () => {
    client = await EngineClient.start({ modelSpec: { kind: 'llama2c', bin: STORIES_BIN, tokenizer: STORIES_TOK }, mode: 'in-process' });
    const trained = await trainProbe(client, { data: path.join(FIXTURE, 'dogs.txt'), negative: path.join(FIXTURE, 'cats.txt'), variant: 'contrast', module: 'residual', positiveLabel: 'dog', date: '2026-01-01T00:00:00Z' });
    expect(trained.probe.training.contrast).toMatchObject({ nPositive: 32, nNegative: 32 });
    const probe = parseProbe(JSON.parse(JSON.stringify(trained.probe)), 'dog-cat.probe.json');
    const prompt = (await client.tokenize([PROMPT]))[0]!;

    const run = async (alpha: number) => {
      const intervention = interventionFromProbe(probe, { layers: LAYERS, alpha });
      const dogs: number[] = [];
      const cats: number[] = [];
      for (let seed = 0; seed < STORIES; seed++) {
        const r = await client!.generate(prompt, { maxTokens: 64, temperature: 0.8, seed }, { intervention });
        dogs.push(count(r.text, DOG));
        cats.push(count(r.text, CAT));
      }
      const net = dogs.map((d, i) => d - cats[i]!);
      const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
      return { alpha, dogWords: sum(dogs), catWords: sum(cats), dogStories: dogs.filter((d) => d > 0).length, catStories: cats.filter((c) => c > 0).length, net };
    };
    const plus = await run(ALPHA);
    const zero = await run(0);
    const minus = await run(-ALPHA);
    const diff = bootstrapMeanDifference(plus.net, minus.net, { seed: 1, resamples: 2000 })!;
    const table = [plus, zero, minus].map(({ net: _net, ...row }) => row);
    console.log(`dog−cat steering at layers ${LAYERS.join('-')}, ${STORIES} stories each:`, JSON.stringify(table), `mean (dog − cat words) per story, +${ALPHA} vs −${ALPHA}: ${diff.estimate.toFixed(3)} [${diff.lo.toFixed(3)}, ${diff.hi.toFixed(3)}]`);

    expect(diff.lo).toBeGreaterThan(0);
    expect(plus.dogWords).toBeGreaterThan(minus.dogWords);
    expect(minus.catWords).toBeGreaterThan(plus.catWords);
  }, 300_000);
});
