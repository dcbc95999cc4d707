import type { Experiment } from '../core/model/experiment';
import { roundExtensionsFor as coreRoundExtensions } from '../core/runner/round-extensions';
import { envSecrets, printScorerNotes } from './commands/scorer';

/** The experiment's probes and scorers for a CLI run: keys from the environment, notes once on stderr. */
export function roundExtensionsFor(exp: Experiment, env: NodeJS.ProcessEnv = process.env) {
  return coreRoundExtensions(exp, { baseDir: process.cwd(), secrets: envSecrets(env), onNote: (note) => printScorerNotes([note]) });
}
