import type { Experiment } from '../core/model/experiment';
import type { BackendDescription } from '../core/model/manifest';
import type { RoundExtension } from '../core/runner/extensions';
import type { RoundExtensionSet } from '../core/runner/round-extensions';
import { core } from './load-core';
import type { ApiKeys } from './secrets';

/**
 * The experiment's probes and scorers as runner extensions (the core's, loaded lazily with the rest of the core);
 * scorer keys come from SecretStorage's scorer namespace under the scorer's apiKeyEnv name (never a backend's key).
 */
export function roundExtensionsFor(exp: Experiment, deps: { keys: ApiKeys; baseDir: string; onNote?: (note: string) => void }) {
  let set: RoundExtensionSet | undefined;
  return {
    build: async (description: BackendDescription): Promise<RoundExtension[]> => {
      set = (await core()).roundExtensionsFor(exp, { baseDir: deps.baseDir, secrets: { get: async (name: string) => deps.keys.getScorerKey(name) }, onNote: deps.onNote });
      return set.build(description);
    },
    close: async () => {
      await set?.close();
    },
  };
}
