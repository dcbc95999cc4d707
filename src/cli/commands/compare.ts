import type { Command } from 'commander';
import { compareRuns, type RunComparison } from '../../core/analysis/compare';
import { ciNum, num, pct, table } from '../../core/report/text';
import { readAnalysisRecords } from '../../core/runner/analysis-records';
import { readItems, readManifest } from '../../core/runner/store';
import { addAnalysisFlags, analysisOptions, type AnalysisFlags } from './analysisFlags';

export function formatComparison(a: string, b: string, c: RunComparison): string {
  const L = [`A = ${a}`, `B = ${b}`, ''];
  const isAcc = c.rows.some((r) => r.mcnemar);
  const f = (x: number | null) => (isAcc ? pct(x) : num(x));
  L.push(
    ...table(
      ['condition', 'round', 'paired', `A ${c.rows[0]?.metric ?? ''}`, `B`, 'Δ (B − A) [95%]', ...(isAcc ? ['A✓B✗', 'A✗B✓', 'McNemar p', 'test'] : [])],
      c.rows.map((r) => [
        r.condition,
        String(r.round),
        String(r.paired),
        f(r.a),
        f(r.b),
        ciNum(r.delta),
        ...(r.mcnemar ? [String(r.mcnemar.aRightBWrong), String(r.mcnemar.aWrongBRight), num(r.mcnemar.p, 4), r.mcnemar.method] : []),
      ]),
    ),
  );
  if (c.onlyA.length) L.push(`only in A: ${c.onlyA.join(', ')}`);
  if (c.onlyB.length) L.push(`only in B: ${c.onlyB.join(', ')}`);
  return L.join('\n') + '\n';
}

export function registerCompareCommand(program: Command): void {
  addAnalysisFlags(
    program
      .command('compare')
      .description('two runs item by item: per condition and round, McNemar\'s test on correctness flips and bootstrap intervals on the metric deltas')
      .argument('<runA>', 'a run folder')
      .argument('<runB>', 'another run folder on the same items')
      .option('--json', 'print one JSON object (schema sclab.compare/1) on stdout'),
  ).action(async (runA: string, runB: string, flags: AnalysisFlags & { json?: boolean }) => {
    const opts = analysisOptions(flags);
    const load = async (dir: string) => {
      const m = await readManifest(dir);
      const items = await readItems(dir, { forAnalysis: true });
      const { table: records } = await readAnalysisRecords(dir, items, { responses: m.experiment.task === 'generation' });
      return records.index(items, m.experiment);
    };
    const result = compareRuns(await load(runA), await load(runB), opts.bootstrap);
    if (flags.json) process.stdout.write(JSON.stringify({ ...result, a: runA, b: runB }) + '\n');
    else process.stdout.write(formatComparison(runA, runB, result));
  });
}
