// Bundles the CLI, the VS Code extension host, the engine worker and the benchmarks into dist/.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // vscode is provided by the host (node-llama-cpp, for the llama.cpp cross-check, is imported from the tools cache).
  external: ['vscode'],
};

const entries = [
  ['src/cli/main.ts', 'dist/cli.js'],
  ['src/extension/extension.ts', 'dist/extension.js'],
  // the core as the extension uses it, loaded on first use so that activation stays cheap
  ['src/extension/core-bundle.ts', 'dist/extension-core.js'],
  ['src/core/engine/worker.ts', 'dist/engine-worker.js'],
  // helper threads of the split-matmul engine (matmul-team.ts), found beside engine-worker.js
  ['src/core/engine/matmul-helper.ts', 'dist/engine-matmul-helper.js'],
  // Validate Dataset off the extension host's thread
  ['src/core/datasets/validate-worker.ts', 'dist/dataset-worker.js'],
  // the local OpenAI-compatible test server, as a process for the benchmark and the kill-and-resume test
  ['test/support/fake-openai-server-cli.ts', 'dist/support/fake-openai-server.js'],
  // the sidecar protocol conformance suite, runnable against any sidecar URL (npm run test:sidecar -- --url …)
  ['test/sidecar/conformance-cli.ts', 'dist/support/sidecar-conformance.js'],
  // recomputes the committed llama.cpp reference of the engine cross-check (npm run crosscheck:llamacpp)
  ['test/engine-crosscheck/crosscheck-llamacpp.ts', 'dist/support/crosscheck-llamacpp.js'],
  // npm run train:scorer: the shipped toxicity scorer's weights are this script's output
  ['scripts/train-scorer.ts', 'dist/scripts/train-scorer.js'],
];
for (const f of existsSync('bench') ? readdirSync('bench') : []) {
  if (f.endsWith('.bench.ts')) entries.push([`bench/${f}`, `dist/bench/${f.replace(/\.ts$/, '.js')}`]);
}

await Promise.all(
  entries.filter(([src]) => existsSync(src)).map(([src, out]) => build({ ...common, entryPoints: [src], outfile: out })),
);

// The results viewer (webview/): one browser bundle and its stylesheet, loaded by the VS Code panel, `sclab view`
// and inlined into the static report.
await build({
  entryPoints: { viewer: 'webview/main.ts' },
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  outdir: 'dist/webview',
});
await build({ entryPoints: { viewer: 'media/viewer/viewer.css' }, bundle: true, minify: true, logLevel: 'warning', outdir: 'dist/webview' });
