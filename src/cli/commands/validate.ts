import type { Command } from 'commander';
import { validateDataset } from '../../core/datasets';
import { formatDiagnostic, type Diagnostic } from '../../core/model/item';
import { isSclabError } from '../../core/model/errors';
import { parseExperimentYaml } from '../../core/protocol';
import { isExperimentFile } from '../../core/runner/prepare';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EXIT } from '../exit';

interface Report {
  file: string;
  kind: 'dataset' | 'experiment';
  format: string | null;
  items?: number;
  mcq?: number;
  generation?: number;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
}

async function validateFile(file: string): Promise<Report[]> {
  if (!isExperimentFile(file)) {
    const r = await validateDataset(file);
    return [{ file, kind: 'dataset', format: r.format, items: r.items, mcq: r.mcq, generation: r.generation, ...tally(r.diagnostics), diagnostics: r.diagnostics }];
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const d: Diagnostic = { file, line: 1, column: 1, severity: 'error', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    return [{ file, kind: 'experiment', format: null, ...tally([d]), diagnostics: [d] }];
  }
  const parsed = parseExperimentYaml(text, file);
  const reports: Report[] = [{ file, kind: 'experiment', format: 'sclab.experiment/1', ...tally(parsed.diagnostics), diagnostics: parsed.diagnostics }];
  if (parsed.experiment) {
    const datasetPath = path.resolve(path.dirname(file), parsed.experiment.dataset.path);
    reports.push(...(await validateFile(datasetPath)));
  }
  return reports;
}

function tally(ds: Diagnostic[]) {
  return { errors: ds.filter((d) => d.severity === 'error').length, warnings: ds.filter((d) => d.severity === 'warning').length };
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a dataset or experiment file; lists every problem as file:line:column (exit 1 when there are errors)')
    .argument('<file>', 'dataset or *.sclab.yaml file')
    .option('--json', 'print one JSON object on stdout')
    .action(async (file: string, flags: { json?: boolean }) => {
      let reports: Report[];
      try {
        reports = await validateFile(file);
      } catch (err) {
        if (!isSclabError(err)) throw err;
        const d: Diagnostic = { file, line: 1, column: 1, severity: 'error', message: err.message };
        reports = [{ file, kind: isExperimentFile(file) ? 'experiment' : 'dataset', format: null, ...tally([d]), diagnostics: [d] }];
      }
      const errors = reports.reduce((n, r) => n + r.errors, 0);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ok: errors === 0, files: reports }) + '\n');
      } else {
        for (const r of reports) {
          for (const d of r.diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
          const counts = r.items !== undefined ? `${r.items} items (${r.mcq} multiple-choice, ${r.generation} generation), ` : '';
          process.stdout.write(`${r.file}: ${r.format ?? 'unknown format'}: ${counts}${r.errors} errors, ${r.warnings} warnings\n`);
        }
      }
      process.exitCode = errors > 0 ? EXIT.invalid : EXIT.ok;
    });
}
