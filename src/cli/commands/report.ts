import type { Command } from 'commander';
import { summarizeRecords, type RunSummary } from '../../core/analysis/summary';
import { readManifest, readRecords } from '../../core/runner/store';
import type { RunManifest } from '../../core/model/manifest';
import { writeHtmlReport } from '../html-report';

function pct(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(1)}%`;
}

export function formatReport(m: RunManifest, s: RunSummary): string {
  const lines = [
    `run ${m.id}: ${m.status}, ${m.counts.recorded}/${m.counts.planned} records, ${s.errors} errors, ${s.cached} cached`,
    `dataset ${m.dataset.path} (${m.dataset.format}, ${m.dataset.items} items)`,
    `backend ${m.backend.kind} ${m.backend.model}${m.backend.baseUrl ? ` at ${m.backend.baseUrl}` : ''}`,
    '',
  ];
  const header = ['condition', 'round', 'records', 'errors', 'parsed', 'accuracy', 'mean gold rank'];
  const rows = s.cells.map((c) => [
    c.condition,
    String(c.round),
    String(c.records),
    String(c.errors),
    pct(c.parseRate),
    c.judged > 0 ? `${pct(c.accuracy)} (${c.correct}/${c.judged})` : '—',
    c.meanGoldRank === null ? '—' : `${c.meanGoldRank.toFixed(2)} (${c.rankMethod})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  const codes = Object.entries(s.errorsByCode);
  if (codes.length > 0) lines.push('', `errors by code: ${codes.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('metrics of a run, recomputed from its records: counts, errors, accuracy per condition and round')
    .argument('<runDir>', 'a run folder (.sclab/runs/<id>)')
    .option('--json', 'print one JSON object on stdout')
    .option('--html [file]', 'also write the self-contained HTML report (default: report.html in the run folder)')
    .action(async (runDir: string, flags: { json?: boolean; html?: string | boolean }) => {
      const manifest = await readManifest(runDir);
      const { records, tornBytes } = await readRecords(runDir);
      const summary = summarizeRecords(records);
      const html = flags.html ? await writeHtmlReport(runDir, typeof flags.html === 'string' ? flags.html : undefined) : undefined;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ runDir, status: manifest.status, counts: manifest.counts, summary, tornBytes, html }) + '\n');
      } else {
        process.stdout.write(formatReport(manifest, summary));
        if (html) process.stdout.write(`report: ${html}\n`);
        if (tornBytes > 0) process.stdout.write(`(a torn last line of ${tornBytes} bytes was ignored; resume the run to redo it)\n`);
      }
    });
}
