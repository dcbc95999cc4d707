import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeTokenize, startFakeOpenAIServer, type FakeServer } from '../support/fake-openai-server';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

describe('fake OpenAI server', () => {
  it('tokenizes into pieces that join back to the text', () => {
    const text = 'user: Who? (a) the man (b) the woman\n\nassistant: It is  (b).  ';
    const tokens = fakeTokenize(text);
    expect(tokens.join('')).toBe(text);
    expect(tokens.slice(0, 5)).toEqual(['user', ':', ' Who', '?', ' (']);
  });

  it('echo: text_offset and tokens agree with the prompt, first token without logprob', async () => {
    server = await startFakeOpenAIServer();
    const prompt = 'Hello there, (a) friend';
    const { json } = await post(`${server.url}/completions`, { model: 'x', prompt, echo: true, logprobs: 2, max_tokens: 0 });
    const lp = json.choices[0].logprobs;
    expect(json.choices[0].text).toBe(prompt);
    expect(lp.tokens.join('')).toBe(prompt);
    lp.tokens.forEach((t: string, i: number) => expect(prompt.slice(lp.text_offset[i], lp.text_offset[i] + t.length)).toBe(t));
    expect(lp.token_logprobs[0]).toBeNull();
    expect(lp.token_logprobs.slice(1).every((v: number) => v < 0)).toBe(true);
    expect(Object.keys(lp.top_logprobs[1])).toHaveLength(2);
  });

  it('answers depend only on the request: an option picked by a hash, overridable', async () => {
    server = await startFakeOpenAIServer();
    const body = { model: 'x', messages: [{ role: 'user', content: 'Pick: (a) red (b) blue (c) green' }] };
    const a = await post(`${server.url}/chat/completions`, body);
    const b = await post(`${server.url}/chat/completions`, body);
    expect(a.json.choices[0].message.content).toMatch(/^ \((a\) red|b\) blue|c\) green)\.$/);
    expect(b.json.choices[0].message.content).toBe(a.json.choices[0].message.content);
    await server.close();
    server = await startFakeOpenAIServer({ reply: () => ' (c) green.' });
    expect((await post(`${server.url}/chat/completions`, body)).json.choices[0].message.content).toBe(' (c) green.');
  });

  it('checks the key, injects faults by request index, and records every request', async () => {
    server = await startFakeOpenAIServer({ requireKey: 'k1', faults: ({ index }) => (index === 1 ? { kind: 'status', status: 429, retryAfter: '3' } : undefined) });
    const body = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };
    expect((await post(`${server.url}/chat/completions`, body, { authorization: 'Bearer nope' })).status).toBe(401);
    const limited = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k1' }, body: JSON.stringify(body) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await post(`${server.url}/chat/completions`, body, { authorization: 'Bearer k1' })).status).toBe(200);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions']);
  });

  it('serves many concurrent keep-alive requests', async () => {
    server = await startFakeOpenAIServer({ latencyMs: 20 });
    const url = server.url;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => post(`${url}/chat/completions`, { model: 'x', messages: [{ role: 'user', content: `q${i} (a) x (b) y` }], max_tokens: 4 })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(server.requests).toHaveLength(200);
  });

  it('close() ends hung requests', async () => {
    server = await startFakeOpenAIServer({ faults: () => ({ kind: 'hang' }) });
    const pending = fetch(`${server.url}/models`).then(
      () => 'answered',
      () => 'dropped',
    );
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await server.close();
    server = undefined;
    expect(await pending).toBe('dropped');
  });

  it('runs as a standalone process that prints its URL and stops on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fake-openai-'));
    try {
      const out = path.join(dir, 'server.cjs');
      await build({ entryPoints: [path.resolve(__dirname, '../support/fake-openai-server-cli.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'silent' });
      const child = spawn(process.execPath, [out, '--port', '0', '--latency', '1', '--model', 'cli-model', '--fail-every', '2']);
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const models = await (await fetch(`${url}/models`)).json();
      expect(models.data[0].id).toBe('cli-model');
      const body = { model: 'cli-model', messages: [{ role: 'user', content: 'hi' }] };
      expect((await post(`${url}/chat/completions`, body)).status).toBe(503); // request index 1
      expect((await post(`${url}/chat/completions`, body)).status).toBe(200);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
