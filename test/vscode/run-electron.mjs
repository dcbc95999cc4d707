// The standard launcher for desktops with internet: @vscode/test-electron downloads VS Code and runs the suites.
// (These build machines cannot download VS Code; `npm run test:e2e` runs the same suites in code-server.)
import { runTests } from '@vscode/test-electron';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeWorkspace, REPO } from './workspace.mjs';

const work = path.join(os.tmpdir(), `sclab-vscode-test-${process.pid}`);
const workspace = makeWorkspace(path.join(work, 'workspace'));
try {
  await runTests({
    extensionDevelopmentPath: REPO,
    extensionTestsPath: path.join(REPO, 'dist/test-vscode/index.js'),
    launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions', '--user-data-dir', path.join(work, 'user-data'), '--skip-welcome', '--skip-release-notes'],
  });
} catch (err) {
  console.error(`extension tests failed: ${err instanceof Error ? err.message : String(err)}`);
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED/.test(String(err))) console.error("(VS Code could not be downloaded; offline, run the same suites in code-server: npm run test:e2e)");
  process.exitCode = 1;
}
