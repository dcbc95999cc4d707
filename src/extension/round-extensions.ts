import type { Experiment } from '../core/model/experiment';
import type { BackendDescription } from '../core/model/manifest';
import type { RoundExtension } from '../core/runner/extensions';
import { core } from './load-core';
import type { ApiKeys } from './secrets';

/**
 * The experiment's probes and scorers as runner extensions, built after the backend connected (probe files are
 * checked against the served model). Scorer keys come from SecretStorage under the scorer's apiKeyEnv name.
 */
export function roundExtensionsFor(exp: Experiment, deps: { keys: ApiKeys; baseDir: string; onNote?: (note: string) => void }) {
  let close: (() => Promise<void>) | undefined;
  return {
    build: async (description: BackendDescription): Promise<RoundExtension[]> => {
      const c = await core();
      const probes = await c.createProbeExtension(exp.probes, { baseDir: deps.baseDir, description });
      const scorers = await c.createScorerExtension(exp.scorers, { baseDir: deps.baseDir, secrets: { get: async (name: string) => deps.keys.get(name) } });
      if (scorers) {
        for (const n of scorers.notes) deps.onNote?.(n);
        close = () => scorers.close();
      }
      return [...(probes ? [probes] : []), ...(scorers ? [scorers] : [])];
    },
    close: async () => {
      await close?.();
    },
  };
}
