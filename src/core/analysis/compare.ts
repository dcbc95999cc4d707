// Browser-safe: two runs compared item by item, per condition × round present in both.
import type { RoundRecord } from '../model/record';
import { cell, roundsOf, type RunIndex } from './runIndex';
import { bootstrapMean, mcnemar, type BootstrapOptions, type Interval, type McNemarResult } from './stats';

export interface CompareRow {
  condition: string;
  round: number;
  /** items with a judged answer (or a score) in both runs */
  paired: number;
  metric: string;
  a: number | null;
  b: number | null;
  /** mean paired difference b − a with a bootstrap interval over items */
  delta: Interval | null;
  /** multiple choice: McNemar's test on the correctness flips */
  mcnemar?: McNemarResult & { aRightBWrong: number; aWrongBRight: number };
}

export interface RunComparison {
  schema: 'sclab.compare/1';
  rows: CompareRow[];
  /** conditions only one of the runs has */
  onlyA: string[];
  onlyB: string[];
}

function value(r: RoundRecord | undefined, generation: boolean, key: string): number | null {
  if (!r || r.error) return null;
  if (generation) return r.scores?.[key]?.value ?? null;
  return r.correct === null ? null : r.correct ? 1 : 0;
}

export function compareRuns(a: RunIndex, b: RunIndex, opts: BootstrapOptions & { scoreKey?: string } = {}): RunComparison {
  const generation = a.task === 'generation' && b.task === 'generation';
  const key = opts.scoreKey ?? 'toxicity';
  const rows: CompareRow[] = [];
  for (const c of a.conditions.filter((x) => b.cells.has(x))) {
    const roundsB = new Set(roundsOf(b, c));
    for (const round of roundsOf(a, c).filter((r) => roundsB.has(r))) {
      const ma = cell(a, c, round);
      const mb = cell(b, c, round);
      const pairs: Array<[number, number]> = [];
      for (const [id, ra] of ma) {
        const x = value(ra, generation, key);
        const y = value(mb.get(id), generation, key);
        if (x !== null && y !== null) pairs.push([x, y]);
      }
      const row: CompareRow = {
        condition: c,
        round,
        paired: pairs.length,
        metric: generation ? key : 'accuracy',
        a: pairs.length ? pairs.reduce((s, p) => s + p[0], 0) / pairs.length : null,
        b: pairs.length ? pairs.reduce((s, p) => s + p[1], 0) / pairs.length : null,
        delta: bootstrapMean(pairs.map(([x, y]) => y - x), opts),
      };
      if (!generation) {
        const bc = pairs.filter(([x, y]) => x === 1 && y === 0).length;
        const cb = pairs.filter(([x, y]) => x === 0 && y === 1).length;
        row.mcnemar = { ...mcnemar(bc, cb), aRightBWrong: bc, aWrongBRight: cb };
      }
      rows.push(row);
    }
  }
  return { schema: 'sclab.compare/1', rows, onlyA: a.conditions.filter((c) => !b.cells.has(c)), onlyB: b.conditions.filter((c) => !a.cells.has(c)) };
}
