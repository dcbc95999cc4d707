// Builds dist/ once before the suites that spawn the CLI, the engine worker or the test server as processes.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'esbuild.mjs')], { cwd: path.join(__dirname, '..'), stdio: 'inherit' });
}
