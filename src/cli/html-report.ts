import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyzeRun, type AnalysisOptions, type FullSummary } from '../core/analysis/analyze';
import { renderHtmlReport } from '../core/report/html';
import { readItems, readManifest, readRecords, writeFileAtomic } from '../core/runner/store';
import type { RunManifest } from '../core/model/manifest';

/** Recomputes the full summary of a run folder from its records and planned items. */
export async function loadRunSummary(runDir: string, opts: AnalysisOptions = {}): Promise<{ manifest: RunManifest; summary: FullSummary; tornBytes: number; records: Awaited<ReturnType<typeof readRecords>>['records']; items: Awaited<ReturnType<typeof readItems>> }> {
  const manifest = await readManifest(runDir);
  const { records, tornBytes } = await readRecords(runDir);
  const items = await readItems(runDir);
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
