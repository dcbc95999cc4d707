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

  it("answers' headers read like a platform Headers object, before and after anything fills them", async () => {
    const expected = new Headers();
    expected.append('content-type', 'application/json');
    expected.append('x-request-id', 'r1');
    expected.append('set-cookie', 'a=1');
    expected.append('set-cookie', 'b=2');
    const res = await httpFetch(`${base}/x`, { method: 'POST', body: '{}' });
    expect(res.headers).toBeInstanceOf(Headers);
    expect(res.headers.get('Set-Cookie')).toBe(expected.get('set-cookie'));
    expect(res.headers.get('X-Request-Id')).toBe('r1');
    expect(res.headers.has('content-type')).toBe(true);
    expect(res.headers.get('x-missing')).toBeNull();
    expect(res.headers.has('x-missing')).toBe(false);
    // iteration fills the object: from then on it is the platform's, answers unchanged
    const seen = Object.fromEntries([...(res.headers as unknown as Iterable<[string, string]>)].filter(([k]) => expected.has(k)));
    const want: Record<string, string> = {};
    expected.forEach((v, k) => (want[k] = v));
    expect(seen).toEqual(want);
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('set-cookie')).toBe(expected.get('set-cookie'));
    res.headers.set('x-request-id', 'changed');
    expect(res.headers.get('x-request-id')).toBe('changed');
    await res.json();
  });

  it('sends a plain header object as a Headers object would: names lower-cased, odd values normalised', async () => {
    const echo = http.createServer((req, res) => res.end(JSON.stringify(req.headers)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
      const plain = (await (await httpFetch(url, { headers: { 'X-One': 'a', accept: 'application/json' } })).json()) as Record<string, string>;
      expect(plain).toMatchObject({ 'x-one': 'a', accept: 'application/json' });
      // surrounding whitespace and one name in two spellings: the Headers way (trimmed; joined)
      const odd = (await (await httpFetch(url, { headers: { 'X-Two': ' b ', 'X-One': 'a', 'x-one': 'c' } })).json()) as Record<string, string>;
      expect(odd).toMatchObject({ 'x-two': 'b', 'x-one': 'a, c' });
    } finally {
      echo.closeAllConnections();
      await new Promise((r) => echo.close(r));
    }
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
