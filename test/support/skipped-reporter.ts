// One line at the end of `npm test` that names the tests that did not run and how to run them, so that a skipped
// test is never mistaken for coverage. Suites that need the whole datasets carry FULL_DATASETS_TAG in their names.
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { FULL_DATASETS, FULL_DATASETS_HINT, FULL_DATASETS_TAG } from './data';

/** "file › suite" of a skipped test: the suite that carries the tag, else the test's own suite */
function where(test: TestCase): { key: string; needsDatasets: boolean } {
  let suiteName: string | null = null;
  for (let p = test.parent; p.type === 'suite'; p = p.parent) {
    if (p.name.includes(FULL_DATASETS_TAG)) return { key: `${test.module.relativeModuleId} › ${p.name.replace(FULL_DATASETS_TAG, '').trim()}`, needsDatasets: true };
    suiteName ??= p.name;
  }
  return { key: `${test.module.relativeModuleId} › ${suiteName ?? test.name}`, needsDatasets: false };
}

export default class SkippedReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const groups = new Map<string, { n: number; needsDatasets: boolean }>();
    for (const m of testModules) {
      for (const t of m.children.allTests('skipped')) {
        const { key, needsDatasets } = where(t);
        const g = groups.get(key) ?? { n: 0, needsDatasets };
        g.n++;
        groups.set(key, g);
      }
    }
    const list = (needsDatasets: boolean): string[] => [...groups].filter(([, g]) => g.needsDatasets === needsDatasets).map(([k, g]) => `${k} (${g.n})`);
    const count = (needsDatasets: boolean): number => [...groups.values()].filter((g) => g.needsDatasets === needsDatasets).reduce((s, g) => s + g.n, 0);
    const parts: string[] = [];
    if (count(true) > 0) parts.push(`${count(true)} tests need the whole datasets: ${list(true).join('; ')}. To run them, ${FULL_DATASETS_HINT}`);
    if (count(false) > 0) parts.push(`${count(false)} other tests were skipped: ${list(false).join('; ')}`);
    if (parts.length > 0) process.stdout.write(`\nSKIPPED (not run, not coverage): ${parts.join('. ')}.\n`);
    else if (FULL_DATASETS) process.stdout.write(`\nNothing skipped; the whole datasets came from ${FULL_DATASETS}.\n`);
  }
}
