// Reading and writing probe files on disk.
import { readFile, writeFile } from 'node:fs/promises';
import { SclabError } from '../model/errors';
import { parseProbe, type LoadedProbe } from './probe';
import type { ProbeFile, ProbeModel } from './schema';

/** Loads a *.probe.json; with `expectedIdentity`, refuses a probe trained on another model (SclabError 'config'). */
export async function loadProbeFile(file: string, expectedIdentity?: ProbeModel): Promise<LoadedProbe> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SclabError('config', `probe file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SclabError('config', `${file}: not JSON: ${(e as Error).message}`);
  }
  return parseProbe(json, file, expectedIdentity);
}

export async function writeProbeFile(file: string, probe: ProbeFile): Promise<void> {
  try {
    await writeFile(file, `${JSON.stringify(probe, null, 2)}\n`, 'utf8');
  } catch (e) {
    throw new SclabError('io', `cannot write probe file ${file}: ${(e as Error).message}`);
  }
}
