// Builds dist/ once before the suites that spawn the CLI, the engine worker or the test server as processes, and
// gives the whole run one temporary folder: every suite's os.tmpdir() (and the processes they spawn) is under it, and
// it is removed when the run ends, so that the suites' run folders, caches and datasets do not pile up in /tmp.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'esbuild.mjs')], { cwd: path.join(__dirname, '..'), stdio: 'inherit' });
  const dir = mkdtempSync(path.join(tmpdir(), 'sclab-tests-'));
  // os.tmpdir() reads TMPDIR on POSIX and TMP/TEMP on Windows; the worker processes start after this and inherit it
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) process.env[name] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
