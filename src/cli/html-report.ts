import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyzeRun, type AnalysisOptions, type FullSummary } from '../core/analysis/analyze';
import { renderHtmlReport } from '../core/report/html';
import type { Item } from '../core/model/item';
import type { RecordTable } from '../core/analysis/recordTable';
import { readAnalysisRecords } from '../core/runner/analysis-records';
import { readItems, readManifest, writeFileAtomic } from '../core/runner/store';
import type { RunManifest } from '../core/model/manifest';

/**
 * Recomputes the full summary of a run folder from its records (read in one streaming pass, slimmed to what analysis
 * reads: see analysis-records.ts) and planned items. `responses`: keep the response texts (the CSV export needs them).
 */
export async function loadRunSummary(
  runDir: string,
  opts: AnalysisOptions = {},
  read: { responses?: boolean } = {},
): Promise<{ manifest: RunManifest; summary: FullSummary; tornBytes: number; records: RecordTable; items: Item[] }> {
  const manifest = await readManifest(runDir);
  // statistics only (the CSV reads an item's options and gold, as the ranks do): no template text
  const items = await readItems(runDir, { forAnalysis: true });
  const { table: records, tornBytes } = await readAnalysisRecords(runDir, items, { responses: read.responses === true || manifest.experiment.task === 'generation' });
  return { manifest, summary: analyzeRun(records, items, manifest.experiment, opts), tornBytes, records, items };
}

/** Writes the self-contained HTML report of a run (default: report.html inside the run folder); returns its path. */
export async function writeHtmlReport(runDir: string, out?: string, caveat?: string, given?: { manifest: RunManifest; summary: FullSummary }): Promise<string> {
  const { manifest, summary } = given ?? (await loadRunSummary(runDir));
  const html = renderHtmlReport({ manifest, summary, caveat });
  const file = path.resolve(out ?? path.join(runDir, 'report.html'));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, html);
  return file;
}
