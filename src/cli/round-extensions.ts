import type { Experiment } from '../core/model/experiment';
import type { BackendDescription } from '../core/model/manifest';
import { createProbeExtension } from '../core/probes/probe-extension';
import type { RoundExtension } from '../core/runner/extensions';
import { createScorerExtension, type ScorerExtension } from '../core/scorers/scorer-extension';
import { envSecrets, printScorerNotes } from './commands/scorer';

/**
 * The experiment's probes and scorers as runner extensions. Paths in the experiment are absolute by the time it
 * reaches here (prepareExperiment, or the manifest on resume); keys come from the environment only.
 */
export function roundExtensionsFor(exp: Experiment, env: NodeJS.ProcessEnv = process.env) {
  let scorers: ScorerExtension | undefined;
  return {
    build: async (description: BackendDescription): Promise<RoundExtension[]> => {
      const probes = await createProbeExtension(exp.probes, { baseDir: process.cwd(), description });
      scorers = await createScorerExtension(exp.scorers, { baseDir: process.cwd(), secrets: envSecrets(env) });
      if (scorers) printScorerNotes(scorers.notes);
      return [...(probes ? [probes] : []), ...(scorers ? [scorers] : [])];
    },
    close: async () => {
      await scorers?.close();
    },
  };
}
