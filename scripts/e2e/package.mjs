// `npm run package`: builds the bundles and packs the extension into dist/self-correction-lab.vsix, then checks
// what went in: under 5 MB, no model weights, the bundles the extension loads at run time.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installTool } from '../tools/ondemand.mjs';

const VSCE_VERSION = '3.9.2';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(repo, 'dist', 'self-correction-lab.vsix');
const MAX_BYTES = 5 * 1024 * 1024;
const REQUIRED = ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/extension-core.js', 'extension/dist/engine-worker.js', 'extension/dist/webview/viewer.js'];
const WEIGHTS = /\.(bin|safetensors|gguf|pt|pth|onnx|ckpt|npz|h5)$/i;

const run = (cmd, args) => execFileSync(cmd, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

run(process.execPath, ['esbuild.mjs']);
// vsce (and its ~120 MB of dependencies) is not a dependency of the project: installed on first use into the tools cache
const vsce = path.join(installTool(`vsce-${VSCE_VERSION}`, [`@vscode/vsce@${VSCE_VERSION}`], ['--ignore-scripts']), 'node_modules/@vscode/vsce/vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '-o', out]);

/** The entries of the .vsix (a zip), read with Python's zipfile or unzip, whichever is there. */
function entries(file) {
  try {
    return run('unzip', ['-Z1', file]).split('\n').filter(Boolean);
  } catch {
    return run('python3', ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file]).split('\n').filter(Boolean);
  }
}

const size = statSync(out).size;
const names = entries(out);
const problems = [];
if (size > MAX_BYTES) problems.push(`the .vsix is ${(size / 1e6).toFixed(2)} MB, over the 5 MB limit`);
for (const w of names.filter((n) => WEIGHTS.test(n))) problems.push(`model weights or binaries inside: ${w}`);
for (const r of REQUIRED.filter((r) => !names.includes(r))) problems.push(`missing from the package: ${r}`);
for (const n of names.filter((n) => /(^|\/)(\.sclab|node_modules|test|src)\//.test(n))) problems.push(`should not be packaged: ${n}`);
console.log(JSON.stringify({ vsix: path.relative(repo, out), bytes: size, megabytes: +(size / 1024 / 1024).toFixed(2), files: names.length }));
if (problems.length > 0) {
  for (const p of problems) console.error(`package: ${p}`);
  process.exit(1);
}
if (!existsSync(out)) process.exit(1);
// the activation cost of the packaged host bundle, outside VS Code (the mocha suite prints it inside VS Code too)
run(process.execPath, [path.join(repo, 'scripts/e2e/measure-activation.mjs')]).split('\n').filter(Boolean).forEach((l) => console.log(`activation: ${l}`));
