// Workspaces and fake servers for the paths and untrusted scenarios (paths.mjs), on top of makeWorkspace.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeWorkspace, MODEL, REPO } from '../vscode/workspace.mjs';

/** The fake OpenAI-compatible server (test/support/fake-openai-server-cli.ts, built by esbuild.mjs) as a process. */
export function startFakeServer(args) {
  const child = spawn(process.execPath, [path.join(REPO, 'dist/support/fake-openai-server.js'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });
}

/** 24 generic multiple-choice items: long enough on a slow server to cancel or interrupt a run in the middle. */
function manyItems() {
  return Array.from({ length: 24 }, (_, i) =>
    JSON.stringify({ id: `m${String(i).padStart(2, '0')}`, context: `Two people, A${i} and B${i}, met at the library.`, question: 'Who was late?', choices: ['A', 'B', 'Not enough information'], answer: 2 }),
  ).join('\n');
}

export function pathsWorkspace(dir, { slow, refusing }) {
  makeWorkspace(dir);
  writeFileSync(path.join(dir, 'data', 'many.jsonl'), `${manyItems()}\n`);
  const settings = {
    'sclab.backends': [
      { name: 'test-embedded', kind: 'embedded', model: MODEL },
      { name: 'slow', kind: 'openai', baseUrl: slow, model: 'fake-model' },
      { name: 'refusing', kind: 'openai', baseUrl: refusing, model: 'fake-model' },
    ],
    'sclab.defaultBackend': 'slow',
    'sclab.defaultRounds': 2,
    'sclab.concurrency': 1,
  };
  writeFileSync(path.join(dir, '.vscode', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return dir;
}

/** A workspace whose settings name a backend that must be ignored while the workspace is not trusted. */
export function untrustedWorkspace(dir) {
  makeWorkspace(dir);
  const settings = { 'sclab.backends': [{ name: 'evil', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'x' }], 'sclab.defaultBackend': 'evil' };
  writeFileSync(path.join(dir, '.vscode', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return dir;
}
