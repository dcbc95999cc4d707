// Starts code-server on loopback for the tests, with its own user-data, extensions and HOME inside `work`, and
// stops it by PID. The packaged .vsix is installed before the server starts (a running server needs a restart
// before newly installed commands appear).
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tools } from './tools.mjs';

const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function env(work) {
  const t = tools();
  return { ...process.env, PATH: `${t.nodeBin}:${process.env.PATH}`, HOME: path.join(work, 'home'), TMPDIR: path.join(work, 'tmp'), XDG_CACHE_HOME: path.join(work, 'home', '.cache') };
}

function dirs(work) {
  return { userData: path.join(work, 'user-data'), extensions: path.join(work, 'extensions'), config: path.join(work, 'config.yaml') };
}

export function installVsix(work, vsix) {
  const t = tools();
  const d = dirs(work);
  for (const p of [d.userData, d.extensions, path.join(work, 'home'), path.join(work, 'tmp')]) mkdirSync(p, { recursive: true });
  execFileSync(t.codeServer, ['--config', d.config, '--user-data-dir', d.userData, '--extensions-dir', d.extensions, '--install-extension', vsix, '--force'], { env: env(work), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** trust: workspace trust on, so that a workspace opens in restricted mode (the other tests turn it off). */
export async function startCodeServer(work, { smokeTestDriver = false, trust = false } = {}) {
  const t = tools();
  const d = dirs(work);
  mkdirSync(path.join(d.userData, 'User'), { recursive: true });
  const trustSettings = trust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'always' } : {};
  writeFileSync(path.join(d.userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...trustSettings }, null, 2));
  writeFileSync(d.config, 'auth: none\ncert: false\n');
  const port = await freePort();
  const args = [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', ...(trust ? [] : ['--disable-workspace-trust']),
    '--reconnection-grace-time', '10', '--config', d.config, '--user-data-dir', d.userData, '--extensions-dir', d.extensions,
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  const log = openSync(path.join(work, `code-server-${port}.log`), 'w');
  const child = spawn(t.codeServer, args, { env: env(work), stdio: ['ignore', log, log], detached: false });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${path.join(work, `code-server-${port}.log`)}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error('code-server did not answer /healthz within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    dirs: d,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
