// The Python reference sidecar's HTTP layer, request checks and probe scoring pass the conformance suite on a
// numpy stand-in model (py_stub_server.py), where python3 with numpy exists; torch and transformers are not needed.
// The real model path was checked on a GPU machine (hf-reference/README.md, figures in docs/sidecar-protocol.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/core/sidecar/client';
import { conformanceChecks } from './conformance';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const TOKEN = 'python-stub-token';
let child: ChildProcess | undefined;
let suite: (ReturnType<typeof conformanceChecks> & { url: string }) | undefined;

describe.skipIf(!hasNumpy)('Python sidecar (numpy stand-in model): conformance', () => {
  beforeAll(async () => {
    child = spawn('python3', [path.join(__dirname, 'hf-reference/py_stub_server.py'), '0'], { env: { ...process.env, STUB_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (line) => resolve(line.split(' ')[1]!));
      child!.once('exit', (code) => reject(new Error(`py_stub_server.py exited (${code})`)));
    });
    suite = { ...conformanceChecks({ url: `http://127.0.0.1:${port}`, token: TOKEN }), url: `http://127.0.0.1:${port}` };
  });
  afterAll(() => {
    suite?.close();
    child?.kill();
  });
  it('an answer over the response budget is refused with 413 before the model runs, naming the sizes', async () => {
    const c = createSidecarClient({ url: suite!.url, token: TOKEN, timeoutMs: 30_000 });
    try {
      const a = await c.raw('POST', '/v1/hidden_states', { prompt: 'x'.repeat(300), position: 'all', layers: 'all' });
      expect(a.status).toBe(413);
      expect(a.body).toMatchObject({ error: { code: 'too_large', message: expect.stringMatching(/4 layers × 301 tokens × 8 wide for position all/) } });
      const ok = await c.raw('POST', '/v1/hidden_states', { prompt: 'x'.repeat(300), position: 'last', layers: [1, 1, 2] });
      expect(ok.status).toBe(200);
      expect((ok.body as { layer_ids: number[] }).layer_ids).toEqual([1, 2]);
    } finally {
      c.close();
    }
  });
  for (const { name } of conformanceChecks({ url: 'http://127.0.0.1:1', token: 'x' }).checks) {
    it(name, async () => {
      await suite!.checks.find((c) => c.name === name)!.run();
    });
  }
});
