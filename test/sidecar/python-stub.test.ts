// The Python reference sidecar's HTTP layer, request checks and probe scoring pass the conformance suite on a
// numpy stand-in model (py_stub_server.py), where python3 with numpy exists; torch and transformers are not needed.
// The real model path was checked on a GPU machine (hf-reference/README.md, figures in docs/sidecar-protocol.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceChecks } from './conformance';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const TOKEN = 'python-stub-token';
let child: ChildProcess | undefined;
let suite: ReturnType<typeof conformanceChecks> | undefined;

describe.skipIf(!hasNumpy)('Python sidecar (numpy stand-in model): conformance', () => {
  beforeAll(async () => {
    child = spawn('python3', [path.join(__dirname, 'hf-reference/py_stub_server.py'), '0'], { env: { ...process.env, STUB_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (line) => resolve(line.split(' ')[1]!));
      child!.once('exit', (code) => reject(new Error(`py_stub_server.py exited (${code})`)));
    });
    suite = conformanceChecks({ url: `http://127.0.0.1:${port}`, token: TOKEN });
  });
  afterAll(() => {
    suite?.close();
    child?.kill();
  });
  for (const { name } of conformanceChecks({ url: 'http://127.0.0.1:1', token: 'x' }).checks) {
    it(name, async () => {
      await suite!.checks.find((c) => c.name === name)!.run();
    });
  }
});
