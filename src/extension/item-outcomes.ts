// What the CodeLens shows on a dataset line: the item's outcome per round in the latest finished run of that file.
import { goldRankOf } from '../core/analysis/goldRank';
import { bandScore, probeNames, resolveBands } from '../core/analysis/probes';
import { roundsOf } from '../core/analysis/runIndex';
import { readAnalysisRecords } from '../core/runner/analysis-records';
import { readItems, readManifest } from '../core/runner/store';

export interface ItemOutcome {
  itemId: string;
  /** 1-based line in the dataset file */
  line: number;
  condition: string;
  /** e.g. "(a) ✗ → (b) ✓" */
  answers: string;
  /** e.g. "gold rank 3 → 1" */
  ranks?: string;
  /** e.g. "probe 0.12 → 0.31" */
  probe?: string;
}

const fmt = (x: number) => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(2) : x.toExponential(1));

/** Outcomes per item of the run's self-correct condition (else its first condition), keyed by dataset line. */
export async function itemOutcomes(runDir: string): Promise<{ datasetPath: string; outcomes: ItemOutcome[] }> {
  const manifest = await readManifest(runDir);
  const items = await readItems(runDir);
  // slimmed in one streaming pass: the outcomes read answers, ranks and probes, not the conversation
  const { table } = await readAnalysisRecords(runDir, items);
  const ix = table.index(items, manifest.experiment);
  const condition = ix.conditions.find((c) => ix.kinds.get(c) === 'self-correct') ?? ix.conditions[0];
  const outcomes: ItemOutcome[] = [];
  if (!condition) return { datasetPath: manifest.dataset.path, outcomes };
  const rounds = roundsOf(ix, condition);
  const probe = probeNames(table.records())[0];
  const band = probe ? resolveBands(ix, [probe], manifest.experiment).get(probe) : undefined;
  for (const item of items) {
    const recs = rounds.map((r) => ix.cells.get(condition)?.get(r)?.get(item.id));
    if (recs.every((r) => !r)) continue;
    const answers = recs.map((r) => (!r ? '·' : r.error ? `error ${r.error.code}` : `${r.answer?.label ?? 'no answer'}${r.correct === true ? ' ✓' : r.correct === false ? ' ✗' : ''}`)).join(' → ');
    // a censored rank (gold outside the top k) is a lower bound: "3+"
    const ranks = recs.map((r) => {
      const g = r ? goldRankOf(r, item) : null;
      return g ? `${g.rank}${g.censored ? '+' : ''}` : undefined;
    });
    const bands = probe && band ? recs.map((r) => (r ? bandScore(r.probes?.[probe], band) : null)) : [];
    outcomes.push({
      itemId: item.id,
      line: item.source.line,
      condition,
      answers,
      ...(ranks.some((r) => r !== undefined) ? { ranks: `gold rank ${ranks.map((r) => r ?? '–').join(' → ')}` } : {}),
      ...(bands.some((b) => b !== null) ? { probe: `${probe} ${bands.map((b) => (b === null ? '–' : fmt(b))).join(' → ')}` } : {}),
    });
  }
  return { datasetPath: manifest.dataset.path, outcomes };
}
