// Browser-safe: the paper's second finding as a table: each instruction's effectiveness against the probe level it
// induces, with Spearman's ρ across instructions.
import type { RoundRecord } from '../model/record';
import { bandScore, type Band, type ProbeMeasure } from './probes';
import { baselineOf, cell, type RunIndex } from './runIndex';
import { spearmanTest, type BootstrapOptions, type SpearmanTest } from './stats';

export interface InstructionRow {
  condition: string;
  /** n records judged (accuracy) or scored (generation) in round 0 */
  n: number;
  /** accuracy or mean score in round 0 */
  output: number | null;
  /** output − the baseline's output */
  change: number | null;
  /** the change signed so that higher = more effective (accuracy up, toxicity down) */
  effectiveness: number | null;
  /** probe name → mean band score in round 0 */
  probeLevel: Record<string, number | null>;
}

export interface InstructionTable {
  outputMetric: string;
  reference: string | null;
  baselineOutput: number | null;
  rows: InstructionRow[];
  /**
   * probe name → Spearman's ρ between effectiveness and probe level across rows with both (ρ null below 3 rows),
   * its two-sided p-value (exact permutation for n ≤ 10, else the t approximation) and a bootstrap interval over
   * the instructions
   */
  spearman: Record<string, SpearmanTest>;
}

function outputOf(records: Iterable<RoundRecord>, generation: boolean, key: string): { value: number | null; n: number } {
  let s = 0;
  let n = 0;
  for (const r of records) {
    if (r.error) continue;
    const v = generation ? r.scores?.[key]?.value : r.correct === null ? null : r.correct ? 1 : 0;
    if (v === null || v === undefined) continue;
    s += v;
    n++;
  }
  return { value: n ? s / n : null, n };
}

/** Variant conditions (kind variant) plus round 0 of the self-correct conditions; null when there is no variant. */
export function instructionTable(ix: RunIndex, bands: ReadonlyMap<string, Band>, opts: { measure?: ProbeMeasure; scoreKey?: string; bootstrap?: BootstrapOptions } = {}): InstructionTable | null {
  const conds = ix.conditions.filter((c) => ix.kinds.get(c) === 'variant' || ix.kinds.get(c) === 'self-correct');
  if (!conds.some((c) => ix.kinds.get(c) === 'variant')) return null;
  const generation = ix.task === 'generation';
  const key = opts.scoreKey ?? 'toxicity';
  const base = baselineOf(ix) ?? null;
  const baselineOutput = base ? outputOf(cell(ix, base, 0).values(), generation, key).value : null;
  const rows: InstructionRow[] = conds.map((c) => {
    const { value, n } = outputOf(cell(ix, c, 0).values(), generation, key);
    const change = value !== null && baselineOutput !== null ? value - baselineOutput : null;
    const probeLevel: Record<string, number | null> = {};
    for (const [name, band] of bands) {
      // the cell walked afresh per probe, not held as an array of records (a table builds each as it is read)
      let sum = 0;
      let k = 0;
      for (const r of cell(ix, c, 0).values()) {
        const v = r.error ? null : bandScore(r.probes?.[name], band, opts.measure ?? 'cosine');
        if (v === null) continue;
        sum += v;
        k++;
      }
      probeLevel[name] = k ? sum / k : null;
    }
    return { condition: c, n, output: value, change, effectiveness: change === null ? null : generation ? -change : change, probeLevel };
  });
  const rho: InstructionTable['spearman'] = {};
  for (const name of bands.keys()) {
    const both = rows.filter((r) => r.effectiveness !== null && r.probeLevel[name] !== null && r.probeLevel[name] !== undefined);
    rho[name] =
      both.length >= 3
        ? spearmanTest(both.map((r) => r.effectiveness!), both.map((r) => r.probeLevel[name]!), opts.bootstrap)
        : { rho: null, n: both.length, p: null, method: 'none', ci: null };
  }
  return { outputMetric: generation ? key : 'accuracy', reference: base, baselineOutput, rows, spearman: rho };
}
