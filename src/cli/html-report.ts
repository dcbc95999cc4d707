import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { rankDistributions } from '../core/analysis/ranks';
import { summarizeRecords } from '../core/analysis/summary';
import { renderHtmlReport } from '../core/report/html';
import { readManifest, readRecords, writeFileAtomic } from '../core/runner/store';

/** Writes the self-contained HTML report of a run (default: report.html inside the run folder); returns its path. */
export async function writeHtmlReport(runDir: string, out?: string, caveat?: string): Promise<string> {
  const manifest = await readManifest(runDir);
  const { records } = await readRecords(runDir);
  const html = renderHtmlReport({ manifest, summary: summarizeRecords(records), ranks: rankDistributions(records), caveat });
  const file = path.resolve(out ?? path.join(runDir, 'report.html'));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, html);
  return file;
}
