import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { recordsToCsv } from '../../core/report/csv';
import { formatSummaryText } from '../../core/report/text';
import { writeFileAtomic } from '../../core/runner/store';
import { loadRunSummary, writeHtmlReport } from '../html-report';
import { addAnalysisFlags, analysisOptions, type AnalysisFlags } from './analysisFlags';

export { formatSummaryText as formatReport };

export function registerReportCommand(program: Command): void {
  addAnalysisFlags(
    program
      .command('report')
      .description('the science of a run, recomputed from its records and items: accuracy, bias scores, pronouns, toxicity, gold ranks and their shifts, probes, the superficiality test, instructions compared')
      .argument('<runDir>', 'a run folder (.sclab/runs/<id>)')
      .option('--json', 'print one JSON object (schema sclab.summary/1) on stdout')
      .option('--csv <file>', 'also write one flat CSV row per record')
      .option('--html [file]', 'also write the self-contained HTML report (default: report.html in the run folder)'),
  ).action(async (runDir: string, flags: AnalysisFlags & { json?: boolean; csv?: string; html?: string | boolean }) => {
    const opts = analysisOptions(flags);
    const { manifest, summary, tornBytes, records, items } = await loadRunSummary(runDir, opts, { responses: flags.csv !== undefined });
    let csv: string | undefined;
    if (flags.csv) {
      csv = path.resolve(flags.csv);
      await fs.mkdir(path.dirname(csv), { recursive: true });
      await writeFileAtomic(csv, recordsToCsv(records, items, manifest.experiment, { probes: opts.probes }));
    }
    const html = flags.html ? await writeHtmlReport(runDir, typeof flags.html === 'string' ? flags.html : undefined, undefined, { manifest, summary }) : undefined;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ ...summary, run: { dir: runDir, id: manifest.id, status: manifest.status, counts: manifest.counts, tornBytes }, runDir, status: manifest.status, counts: manifest.counts, tornBytes, csv, html }) + '\n');
    } else {
      process.stdout.write(formatSummaryText(manifest, summary));
      if (csv) process.stdout.write(`csv: ${csv}\n`);
      if (html) process.stdout.write(`report: ${html}\n`);
      if (tornBytes > 0) process.stdout.write(`(a torn last line of ${tornBytes} bytes was ignored; resume the run to redo it)\n`);
    }
  });
  // registered here so that the command list in commands/index.ts needs no change
}
