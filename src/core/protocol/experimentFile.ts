import { readFile, stat } from 'node:fs/promises';
import type { Experiment } from '../model/experiment';
import type { Diagnostic } from '../model/item';
import { SclabError } from '../model/errors';
import { diagnosticAt, formatExperimentDiagnostic, parseExperimentYaml, sourceOf } from './experimentYaml';

function configError(diagnostics: Diagnostic[]): SclabError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const head = errors.length === 1 ? 'the experiment file has 1 error' : `the experiment file has ${errors.length} errors`;
  return new SclabError('config', `${head}:\n${diagnostics.map(formatExperimentDiagnostic).join('\n')}`);
}

async function datasetDiagnostic(exp: Experiment): Promise<Diagnostic | undefined> {
  try {
    const s = await stat(exp.dataset.path);
    if (s.isFile()) return undefined;
    return diagnosticAt(sourceOf(exp), ['dataset', 'path'], `not a file: ${exp.dataset.path}`);
  } catch {
    return diagnosticAt(sourceOf(exp), ['dataset', 'path'], `dataset file not found: ${exp.dataset.path}`);
  }
}

/**
 * Read, parse and check an experiment file; the dataset path comes back absolute and must name an existing file.
 * Returns the warnings too. Throws SclabError('config') listing every error as file:line:column: field: message.
 */
export async function loadExperimentFileWithDiagnostics(path: string): Promise<{ experiment: Experiment; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SclabError('config', `${path}: experiment file not found`, { cause: e });
    throw new SclabError('io', `${path}: cannot read the experiment file (${code ?? String(e)})`, { cause: e });
  }
  const { experiment, diagnostics } = parseExperimentYaml(text, path);
  if (experiment === undefined) throw configError(diagnostics);
  const missing = await datasetDiagnostic(experiment);
  if (missing !== undefined) throw configError([...diagnostics, missing]);
  return { experiment, diagnostics };
}

export async function loadExperimentFile(path: string): Promise<Experiment> {
  return (await loadExperimentFileWithDiagnostics(path)).experiment;
}
