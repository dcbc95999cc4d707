// Tools that only an optional check, a benchmark or packaging needs (llama.cpp for the engine cross-check, vsce for
// the .vsix) are not dependencies of the project, so that `npm ci` stays lean: the first use installs them with npm
// into a cache folder outside the repository, one folder per tool and version; later uses find them there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** SCLAB_TOOLS_CACHE, else ~/.cache/sclab-tools */
export function toolsCache() {
  return process.env.SCLAB_TOOLS_CACHE || path.join(os.homedir(), '.cache', 'sclab-tools');
}

/**
 * The folder (with node_modules/) of `name` in the tools cache, installing `packages` (exact versions) there first
 * when missing. Idempotent; an interrupted install is redone.
 */
export function installTool(name, packages, npmArgs = []) {
  const dir = path.join(toolsCache(), name);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'package.json'), `${JSON.stringify({ name: `sclab-tools-${name}`, private: true })}\n`);
  process.stderr.write(`installing ${packages.join(' ')} into ${dir} (once)\n`);
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', ...npmArgs, ...packages], {
      cwd: tmp,
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not install ${packages.join(' ')} into ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  writeFileSync(path.join(tmp, '.complete'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
