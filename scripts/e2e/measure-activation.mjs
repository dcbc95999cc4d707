// Measures the extension's activation cost outside VS Code: require(dist/extension.js) + activate(), with the
// `vscode` module replaced by a recording stub. Prints JSON {requireMs, activateMs, totalMs, bundleBytes}.
// Usage: node scripts/e2e/measure-activation.mjs [--max-ms 50]   (exits 1 when the total is over the limit)
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bundle = path.resolve(here, '../../dist/extension.js');
const require = createRequire(import.meta.url);
const stub = () =>
  new Proxy(function () {}, {
    get: (_t, k) => (k === 'then' ? undefined : k === Symbol.toPrimitive ? () => '' : stub()),
    apply: () => stub(),
    set: () => true,
    defineProperty: () => true,
    construct: () => stub(),
  });
// a namespace object (esbuild's ESM interop copies own keys) whose members accept any use
const vscode = Object.fromEntries(
  ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'Uri', 'EventEmitter', 'TreeItem', 'ThemeIcon', 'MarkdownString', 'CodeLens', 'Position', 'Range', 'Diagnostic', 'RelativePattern', 'ViewColumn', 'ProgressLocation', 'StatusBarAlignment', 'ConfigurationTarget', 'TreeItemCollapsibleState', 'DiagnosticSeverity'].map((k) => [k, stub()]),
);
// values activation reads: no folder open (so no watcher), default settings
const withValues = (values) => new Proxy(values, { get: (t, k) => (k in t ? t[k] : stub()) });
vscode.workspace = withValues({ workspaceFolders: undefined, isTrusted: true, getConfiguration: () => ({ get: (_k, d) => d }) });
const realLoad = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return vscode;
  return realLoad.call(this, request, ...rest);
};

const disposable = { dispose() {} };
const memento = { get: (_k, d) => d, update: async () => undefined, keys: () => [] };
const context = {
  subscriptions: [],
  extensionPath: path.dirname(path.dirname(bundle)),
  extensionUri: stub(),
  globalStorageUri: { fsPath: '/tmp/sclab-activation/User/globalStorage/self-correction-lab.self-correction-lab' },
  secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: () => disposable },
  workspaceState: memento,
  globalState: memento,
};

// prime the CommonJS loader and the built-ins VS Code's extension host has loaded already, so that the figure is
// this extension's own cost
for (const m of ['node:path', 'node:fs', 'node:crypto', 'node:os', 'node:child_process']) require(m);
const t0 = performance.now();
const ext = require(bundle);
const t1 = performance.now();
ext.activate(context);
const t2 = performance.now();
const result = { requireMs: +(t1 - t0).toFixed(2), activateMs: +(t2 - t1).toFixed(2), totalMs: +(t2 - t0).toFixed(2), bundleBytes: fs.statSync(bundle).size };
process.stdout.write(JSON.stringify(result) + '\n');
const i = process.argv.indexOf('--max-ms');
if (i > 0 && result.totalMs > Number(process.argv[i + 1])) {
  process.stderr.write(`activation took ${result.totalMs} ms, over the ${process.argv[i + 1]} ms budget\n`);
  process.exitCode = 1;
}
setTimeout(() => process.exit(), 50).unref();
