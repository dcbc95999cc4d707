// Where the tests find their model and datasets. The repository carries what they need (test/fixtures/: the
// stories260K checkpoint and a few hundred rows of each dataset); a test that needs a whole dataset asks for
// `fullDataset(...)` inside `describeFullDatasets(...)`, which runs only when the datasets are there:
// SCLAB_DATASETS=<folder>, else ../shared/datasets beside the checkout. `npm test` lists what it skipped
// (test/support/skipped-reporter.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';

export const REPO = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');

/** The tiny trained model (llama2.c format), committed under test/fixtures/models/stories260K */
export const STORIES = path.join(FIXTURES, 'models', 'stories260K');
export const STORIES_BIN = path.join(STORIES, 'stories260K.bin');
export const STORIES_TOK = path.join(STORIES, 'tok512.bin');
export const STORIES_SPEC = { kind: 'llama2c' as const, bin: STORIES_BIN, tokenizer: STORIES_TOK };

/** Samples of the datasets, laid out like the full datasets folder (bbq/Age.jsonl, winogender/templates.tsv, …) */
export const SAMPLES = path.join(FIXTURES, 'samples');

/** How to enable the tests that need whole datasets; the skipped-tests line of `npm test` prints it. */
export const FULL_DATASETS_HINT = 'set SCLAB_DATASETS=<folder with bbq/, realtoxicityprompts/, …> or put the datasets in ../shared/datasets';

/** Marks the names of the suites that need whole datasets, for the skipped-tests reporter. */
export const FULL_DATASETS_TAG = '[full datasets]';

function findFullDatasets(): string | null {
  const fromEnv = process.env.SCLAB_DATASETS;
  if (fromEnv) {
    // asked for explicitly: a wrong folder is an error, not a silent skip
    if (!existsSync(fromEnv)) throw new Error(`SCLAB_DATASETS=${fromEnv}: no such folder`);
    return path.resolve(fromEnv);
  }
  const beside = path.resolve(REPO, '..', 'shared', 'datasets');
  return existsSync(beside) ? beside : null;
}

/** The folder of the whole datasets, or null when there is none */
export const FULL_DATASETS = findFullDatasets();

/** A dataset file by its path in the datasets folder (e.g. 'bbq/Age.jsonl'): the committed sample. */
export function dataset(rel: string): string {
  const p = path.join(SAMPLES, rel);
  if (!existsSync(p)) throw new Error(`no sample of ${rel} in ${SAMPLES}; tests that need the whole file use fullDataset() inside describeFullDatasets()`);
  return p;
}

/** The whole dataset file; only inside describeFullDatasets(), which is skipped when the datasets are absent. */
export function fullDataset(rel: string): string {
  if (FULL_DATASETS === null) throw new Error(`fullDataset(${rel}) outside describeFullDatasets(): ${FULL_DATASETS_HINT}`);
  return path.join(FULL_DATASETS, rel);
}

/** A suite that needs whole datasets: it runs when they are there and is skipped (and listed) otherwise. */
export function describeFullDatasets(name: string, body: () => void): void {
  describe.skipIf(FULL_DATASETS === null)(`${name} ${FULL_DATASETS_TAG}`, body);
}
