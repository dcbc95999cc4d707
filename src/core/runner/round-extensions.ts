import type { SecretProvider } from '../backends/backend';
import type { Experiment } from '../model/experiment';
import type { BackendDescription } from '../model/manifest';
import { createProbeExtension } from '../probes/probe-extension';
import { createScorerExtension, type ScorerExtension } from '../scorers/scorer-extension';
import type { RoundExtension } from './extensions';

export interface RoundExtensionSet {
  /** builds the experiment's probes and scorers once the backend is connected (probes check the served model) */
  build(description: BackendDescription): Promise<RoundExtension[]>;
  /** releases what the scorers hold (connections) */
  close(): Promise<void>;
}

/**
 * The experiment's probes and scorers as runner extensions, for every host: paths in the experiment are absolute by
 * the time it gets here (prepareExperiment, or the manifest on resume); keys come from the host's secret provider.
 */
export function roundExtensionsFor(exp: Experiment, deps: { baseDir: string; secrets: SecretProvider; onNote?: (note: string) => void }): RoundExtensionSet {
  let scorers: ScorerExtension | undefined;
  return {
    async build(description) {
      const probes = await createProbeExtension(exp.probes, { baseDir: deps.baseDir, description, conditions: exp.conditions });
      scorers = await createScorerExtension(exp.scorers, { baseDir: deps.baseDir, secrets: deps.secrets });
      for (const note of scorers?.notes ?? []) deps.onNote?.(note);
      return [...(probes ? [probes] : []), ...(scorers ? [scorers] : [])];
    },
    async close() {
      await scorers?.close();
    },
  };
}
