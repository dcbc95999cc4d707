// Writes stories260K as a Hugging Face Llama folder (rotate-half Q/K rows, safetensors, tokenizer.json converted
// from tok512.bin) to tmp/sidecarcheck/stories-hf, for the Python sidecar and `sclab serve` to serve the same
// model (see README.md). Run from the repo root after bundling with esbuild.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadLlama2c } from '../../../src/core/engine/llama2c';
import { writeStoriesAsHf } from '../../support/stories-hf';

const STORIES = join(process.cwd(), 'test/fixtures/models/stories260K');
const out = join(process.cwd(), 'tmp/sidecarcheck/stories-hf');

const m = await loadLlama2c(join(STORIES, 'stories260K.bin'), join(STORIES, 'tok512.bin'));
rmSync(out, { recursive: true, force: true });
writeStoriesAsHf(m, out, join(STORIES, 'tok512.bin'));
console.log(`wrote ${out}`);
