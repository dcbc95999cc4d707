import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RunManifest } from '../core/model/manifest';
import { core } from './load-core';

export interface RunEntry {
  runDir: string;
  manifest: RunManifest;
  /** status "running" but no live process holds the lock (a crash, a closed window), or cancelled */
  resumable: boolean;
  /** status "running" with nobody running it */
  interrupted: boolean;
}

/** Every readable run folder under `runsFolder`, newest first; unreadable ones are reported, not skipped silently. */
export async function listRuns(runsFolder: string, isActiveHere: (runDir: string) => boolean, onUnreadable?: (runDir: string, err: unknown) => void): Promise<RunEntry[]> {
  const names = await fs.readdir(runsFolder).catch(() => [] as string[]);
  const { readManifest, lockHolder } = await core();
  const out: RunEntry[] = [];
  for (const name of names) {
    const runDir = path.join(runsFolder, name);
    const hasManifest = await fs.stat(path.join(runDir, 'manifest.json')).then(
      () => true,
      () => false,
    );
    if (!hasManifest) continue;
    try {
      const manifest = await readManifest(runDir);
      const live = isActiveHere(runDir) || (await lockHolder(runDir)) !== null;
      const interrupted = manifest.status === 'running' && !live;
      out.push({ runDir, manifest, interrupted, resumable: !live && (interrupted || manifest.status === 'cancelled' || manifest.status === 'failed') });
    } catch (err) {
      onUnreadable?.(runDir, err);
    }
  }
  return out.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}
