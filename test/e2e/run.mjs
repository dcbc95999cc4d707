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
import { runPathsScenario, runUntrustedScenario } from './paths.mjs';
import { runWalkthroughScenario } from './walkthrough.mjs';
import { startFakeServer, pathsWorkspace, untrustedWorkspace } from './workspaces.mjs';

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

// SCLAB_E2E_ONLY=paths,untrusted (a comma list of mocha, ui, walkthrough, paths, untrusted) runs a subset while debugging
const only = process.env.SCLAB_E2E_ONLY?.split(',').map((x) => x.trim());
const want = (part) => !only || only.includes(part);
let server;
let context;
let failed = false;
const fakes = [];
const scenario = async (name, run) => {
  const r = await run();
  lap(`${name}: ${r.passed}/${r.total} checks passed`);
  if (r.passed !== r.total) failed = true;
};
try {
  context = await launchBrowser(work);
  if (want('mocha')) {
    server = await startCodeServer(work, { smokeTestDriver: true });
    lap(`code-server on ${server.url}`);
    const mochaCode = await runMochaSuite(context, {
      url: server.url,
      port: server.port,
      extensionDir,
      testsIndex: path.join(REPO, 'dist', 'test-vscode', 'index.js'),
      workspace: makeWorkspace(path.join(work, 'ws-mocha')),
    });
    lap(`mocha suite exit code ${mochaCode}`);
    if (mochaCode !== 0) failed = true;
    // the smoke-test driver changes the workbench (no notification toasts): the UI scenarios get a plain server
    await server.stop();
  }
  server = await startCodeServer(work);
  lap(`code-server for the UI scenarios on ${server.url}`);
  if (want('ui')) await scenario('UI scenario', () => runUiScenario(context, { url: server.url, workspace: makeWorkspace(path.join(work, 'ws-ui')), shots }));
  if (want('walkthrough')) await scenario('walkthrough scenario', () => runWalkthroughScenario(context, { url: server.url, workspace: makeWorkspace(path.join(work, 'ws-walkthrough')), shots }));
  if (want('paths')) {
    // a slow server for runs to cancel and interrupt, and one that refuses every key but its own
    fakes.push(await startFakeServer(['--latency', '400']), await startFakeServer(['--require-key', 'the-right-key']));
    await scenario('paths scenario', () => runPathsScenario(context, { url: server.url, workspace: pathsWorkspace(path.join(work, 'ws-paths'), { slow: fakes[0].url, refusing: fakes[1].url }), shots }));
  }
  if (want('untrusted')) {
    await server.stop();
    server = await startCodeServer(work, { trust: true });
    await scenario('untrusted-workspace scenario', () => runUntrustedScenario(context, { url: server.url, workspace: untrustedWorkspace(path.join(work, 'ws-untrusted')), shots }));
  }
} catch (err) {
  console.error(`e2e: ${err instanceof Error ? err.stack : String(err)}`);
  failed = true;
} finally {
  await context?.close().catch(() => undefined);
  for (const f of fakes) f.stop();
  await server?.stop();
  if (!failed && !process.env.SCLAB_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`e2e: work folder kept at ${work}`);
}
lap(failed ? 'FAILED' : 'passed');
process.exit(failed ? 1 : 0);
