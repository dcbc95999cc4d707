// `npm run test:e2e` (after scripts/e2e/install.sh): packages the extension, installs the .vsix into code-server,
// runs the mocha suites through the smoke-test driver, then drives the workbench with Playwright. Screenshots go
// to test-results/e2e/. Exit code 0 only when both parts pass.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installVsix, startCodeServer } from '../../scripts/e2e/code-server.mjs';
import { makeWorkspace, REPO } from '../vscode/workspace.mjs';
import { launchBrowser } from './browser.mjs';
import { runMochaSuite } from './mocha-in-code-server.mjs';
import { runUiScenario } from './ui.mjs';

const t0 = Date.now();
const lap = (what) => console.log(`e2e: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
const node = (args) => execFileSync(process.execPath, args, { cwd: REPO, stdio: 'inherit' });

node(['scripts/e2e/package.mjs']);
node(['test/vscode/build.mjs']);
lap('packaged');

const work = mkdtempSync(path.join(os.tmpdir(), 'sclab-e2e-'));
const shots = path.join(REPO, 'test-results', 'e2e');
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
const vsix = path.join(REPO, 'dist', 'self-correction-lab.vsix');
installVsix(work, vsix);
const extensionDir = path.join(work, 'extensions', readdirSync(path.join(work, 'extensions')).find((d) => d.startsWith('self-correction-lab.self-correction-lab-')));
lap('installed the .vsix into code-server');

let server = await startCodeServer(work, { smokeTestDriver: true });
lap(`code-server on ${server.url}`);
let context;
let failed = false;
try {
  context = await launchBrowser(work);
  const mochaCode = await runMochaSuite(context, {
    url: server.url,
    port: server.port,
    extensionDir,
    testsIndex: path.join(REPO, 'dist', 'test-vscode', 'index.js'),
    workspace: makeWorkspace(path.join(work, 'ws-mocha')),
  });
  lap(`mocha suite exit code ${mochaCode}`);
  if (mochaCode !== 0) failed = true;
  // the smoke-test driver changes the workbench (no notification toasts): the UI scenario gets a plain server
  await server.stop();
  server = await startCodeServer(work);
  lap(`code-server for the UI scenario on ${server.url}`);
  const ui = await runUiScenario(context, { url: server.url, workspace: makeWorkspace(path.join(work, 'ws-ui')), shots });
  lap(`UI scenario: ${ui.passed}/${ui.total} checks passed`);
  if (ui.passed !== ui.total) failed = true;
} catch (err) {
  console.error(`e2e: ${err instanceof Error ? err.stack : String(err)}`);
  failed = true;
} finally {
  await context?.close().catch(() => undefined);
  await server.stop();
  if (!failed && !process.env.SCLAB_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`e2e: work folder kept at ${work}`);
}
lap(failed ? 'FAILED' : 'passed');
process.exit(failed ? 1 : 0);
