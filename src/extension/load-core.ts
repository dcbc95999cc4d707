import * as path from 'node:path';
import type * as CoreBundle from './core-bundle';

export type Core = typeof CoreBundle;

let loaded: Core | undefined;

/**
 * The core bundle, required on first use from beside this bundle (dist/extension-core.js). The path is computed so
 * that esbuild leaves the require alone and the host bundle does not contain the core.
 */
export async function core(): Promise<Core> {
  const file = path.join(__dirname, 'extension-core.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path, on purpose not bundled
  loaded ??= require(file) as Core;
  return loaded;
}
