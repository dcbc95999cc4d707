// Bundles the mocha suites for the extension host: dist/test-vscode/index.js (vscode and mocha stay external:
// the host provides vscode, mocha is resolved from the repository's node_modules).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
await build({
  absWorkingDir: repo,
  entryPoints: ['test/vscode/suite/index.ts'],
  outfile: 'dist/test-vscode/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
