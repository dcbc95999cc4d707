import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch } from '../../src/core/backends/openai/http-fetch';

let server: http.Server;
let base = '';
const { fetch: httpFetch, close } = createHttpFetch();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/hang') return; // never answers
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial":');
        return void setTimeout(() => res.destroy(), 10);
      }
      res.writeHead(req.url === '/teapot' ? 418 : 200, { 'content-type': 'application/json', 'x-request-id': 'r1', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('node:http fetch for the SDK', () => {
  it('sends method, headers and body; reads status, headers and JSON once', async () => {
    const res = await httpFetch(`${base}/x`, { method: 'POST', body: '{"a":1}', headers: { Authorization: 'Bearer k', 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-request-id')).toBe('r1');
    expect(res.headers.get('set-cookie')).toContain('a=1');
    expect(await res.json()).toEqual({ method: 'POST', body: '{"a":1}', auth: 'Bearer k' });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(/already been used/);
  });

  it('reports non-2xx as a response, 204 without a body', async () => {
    const teapot = await httpFetch(`${base}/teapot`);
    expect(teapot.status).toBe(418);
    expect(teapot.ok).toBe(false);
    expect(JSON.parse(await teapot.text()).method).toBe('GET');
    const empty = await httpFetch(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('fails like fetch: refused connections and cut bodies are TypeError("fetch failed") with the socket error as cause', async () => {
    const refused = await httpFetch('http://127.0.0.1:9/').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as Error).message).toBe('fetch failed');
    expect(((refused as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    const cut = await httpFetch(`${base}/cut`).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(TypeError);
  });

  it('aborts a hung request through its signal', async () => {
    const ac = new AbortController();
    const p = httpFetch(`${base}/hang`, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const already = new AbortController();
    already.abort();
    await expect(httpFetch(`${base}/x`, { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
