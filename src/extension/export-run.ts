import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import { registerCommand, type CommandDeps } from './command';
import type { PromptsHolder } from './prompts';
import { runDirOf } from './runs-tree';
import { core } from './load-core';

export type ExportFormat = 'csv' | 'jsonl' | 'html';

export interface ExportDeps extends CommandDeps {
  prompts: PromptsHolder;
  pickRun: (title: string) => Promise<string | undefined>;
}

/** The export's text, from the core's report functions (the same numbers as `sclab report`). */
export async function renderExport(runDir: string, format: ExportFormat): Promise<string> {
  const { readItems, readManifest, readRecords, readAnalysisRecords } = await core();
  const manifest = await readManifest(runDir);
  if (format === 'jsonl') return (await readRecords(runDir)).records.map((r) => JSON.stringify(r) + '\n').join('');
  const items = await readItems(runDir);
  // the CSV and the report read answers, ranks, scores and probes (the CSV also the responses), not the conversation
  const { table: records } = await readAnalysisRecords(runDir, items, { responses: format === 'csv' || manifest.experiment.task === 'generation' });
  if (format === 'csv') {
    const { recordsToCsv } = await core();
    return recordsToCsv(records, items, manifest.experiment);
  }
  const { analyzeRun } = await core();
  const { renderHtmlReport } = await core();
  return renderHtmlReport({ manifest, summary: analyzeRun(records, items, manifest.experiment) });
}

const FORMAT_ITEMS: Array<vscode.QuickPickItem & { format: ExportFormat }> = [
  { label: 'CSV', description: 'one row per record: answer, correctness, gold rank, scores, probe bands', format: 'csv' },
  { label: 'JSONL', description: 'the records as they are stored', format: 'jsonl' },
  { label: 'HTML', description: 'the self-contained report (no scripts)', format: 'html' },
];

/** "Export Run": args (runDir | tree node, format?, target path?) let the viewer and tests skip the questions. */
async function exportRun(deps: ExportDeps, arg: unknown, formatArg: unknown, targetArg: unknown): Promise<string | undefined> {
  const runDir = runDirOf(arg) ?? (await deps.pickRun('Export which run?'));
  if (!runDir) return undefined;
  let format = typeof formatArg === 'string' ? (formatArg.toLowerCase() as ExportFormat) : undefined;
  if (format && !FORMAT_ITEMS.some((f) => f.format === format)) throw new SclabError('config', `export format must be csv, jsonl or html (got "${String(formatArg)}")`);
  format ??= (await deps.prompts.current.pick(FORMAT_ITEMS, { title: 'Export as' }))?.format;
  if (!format) return undefined;
  let target = typeof targetArg === 'string' ? targetArg : undefined;
  if (!target) {
    const defaultName = format === 'jsonl' ? 'records-export.jsonl' : format === 'csv' ? 'records.csv' : 'report.html';
    target = (await deps.prompts.current.saveTo({ defaultUri: vscode.Uri.file(path.join(runDir, defaultName)), filters: { [format.toUpperCase()]: [format] } }))?.fsPath;
    if (!target) return undefined;
  }
  const text = await renderExport(runDir, format);
  const { writeFileAtomic } = await core();
  await fs.mkdir(path.dirname(target), { recursive: true });
  await writeFileAtomic(target, text);
  deps.log.info(`exported ${runDir} as ${format} to ${target}`);
  void vscode.window.showInformationMessage(`Exported to ${path.basename(target)}`, 'Open').then((a) => {
    if (a === 'Open') void (format === 'html' ? vscode.env.openExternal(vscode.Uri.file(target)) : vscode.window.showTextDocument(vscode.Uri.file(target)));
  });
  return target;
}

export function registerExportRun(deps: ExportDeps): vscode.Disposable[] {
  return [registerCommand(deps, 'sclab.exportRun', (arg?: unknown, format?: unknown, target?: unknown) => exportRun(deps, arg, format, target))];
}
