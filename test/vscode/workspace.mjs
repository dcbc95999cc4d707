// A fresh workspace for the extension tests: the hostile fixture dataset and workspace settings that point the
// embedded backend at test/fixtures/models/stories260K (a local folder: nothing is downloaded).
import { cpSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODEL = path.join(REPO, 'test', 'fixtures', 'models', 'stories260K');

export function makeWorkspace(dir) {
  if (!existsSync(path.join(MODEL, 'stories260K.bin'))) throw new Error(`the test model is missing: ${MODEL}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  for (const f of ['hostile.jsonl', 'probed.sclab.yaml', 'statements.txt']) cpSync(path.join(REPO, 'test/vscode/fixtures', f), path.join(dir, 'data', f));
  const settings = {
    'sclab.backends': [{ name: 'test-embedded', kind: 'embedded', model: MODEL }],
    'sclab.defaultBackend': 'test-embedded',
    'sclab.defaultRounds': 2,
    'sclab.concurrency': 2,
  };
  writeFileSync(path.join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  return dir;
}
