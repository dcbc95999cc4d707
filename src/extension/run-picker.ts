import { SclabError } from '../core/model/errors';
import type { PromptsHolder } from './prompts';
import type { RunEntry } from './run-folders';
import type { RunsTree } from './runs-tree';

/** A QuickPick over the workspace's runs, newest first; undefined when the user backs out. */
export async function pickRun(tree: RunsTree, prompts: PromptsHolder, title: string, filter: (e: RunEntry) => boolean = () => true): Promise<string | undefined> {
  const entries = (await tree.list()).filter(filter);
  if (entries.length === 0) throw new SclabError('config', "no matching runs in this workspace's runs folder (setting sclab.runsFolder)");
  const picked = await prompts.current.pick(
    entries.map((e) => ({
      label: e.manifest.id,
      description: `${e.interrupted ? 'interrupted' : e.manifest.status} · ${e.manifest.counts.recorded}/${e.manifest.counts.planned} · ${e.manifest.backend.model}`,
      runDir: e.runDir,
    })),
    // kept open when focus moves: a picker opened from a walkthrough button closed as the walkthrough took focus back
    { title, ignoreFocusOut: true },
  );
  return picked?.runDir;
}
