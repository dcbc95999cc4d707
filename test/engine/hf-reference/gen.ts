// Writes stories260K as a Hugging Face Llama folder plus our engine's outputs on one input, for check.py to compare
// against transformers' LlamaForCausalLM (see README.md). Run from the repo root.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLlama2c } from '../../../src/core/engine/llama2c';
import { hiddenStates, scoreContinuation } from '../../../src/core/engine/session';
import { ForwardState } from '../../../src/core/engine/transformer';
import { writeStoriesAsHf } from '../../support/stories-hf';

const STORIES = join(process.cwd(), 'test/fixtures/models/stories260K');
const out = join(process.cwd(), 'tmp/enginecheck');

const m = await loadLlama2c(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));
const c = m.weights.config;
rmSync(out, { recursive: true, force: true });
writeStoriesAsHf(m, join(out, 'stories-hf'));

const ids = [1, ...m.tokenizer.encode('Once upon a time, Tom found a shiny red box under his bed. He opened it and')];
const rows = (a: Float32Array): number[][] => Array.from({ length: a.length / c.dim }, (_, r) => Array.from(a.subarray(r * c.dim, (r + 1) * c.dim)));
const all = (convention: 'sclab' | 'hf') => hiddenStates(m, ids, { position: 'all', modules: ['residual', 'attn', 'mlp'], convention });
const [sclab, hf] = [await all('sclab'), await all('hf')];
const fwd = new ForwardState(m.weights).forward(ids, { logitsFrom: 0 });
const score = await scoreContinuation(m, ids.slice(0, 5), ids.slice(5));
writeFileSync(
  join(out, 'ours.json'),
  JSON.stringify({
    ids,
    logits: Array.from({ length: ids.length }, (_, r) => Array.from(fwd.logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize))),
    hidden_hf: hf.residual!.map(rows),
    residual_sclab: sclab.residual!.map(rows),
    attn: sclab.attn!.map(rows),
    mlp: sclab.mlp!.map(rows),
    score_from: 5,
    score_logprobs: score.logprobs,
  }),
);
console.log(`wrote ${out}: ${ids.length} tokens`);
