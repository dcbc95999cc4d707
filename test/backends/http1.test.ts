// The HTTP/1.1 exchange under our fetch (http1.ts) against raw sockets that answer byte by byte as servers do:
// framing (content-length, chunked, until close), interim answers, kept-alive sockets and what ends them, limits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpFetch } from '../../src/core/backends/openai/http-fetch';

/** A server that hands each request (head and body as text) to `answer`, which writes raw bytes back. */
async function rawServer(answer: (socket: net.Socket, request: string, n: number) => void) {
  const sockets = new Set<net.Socket>();
  let n = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = buf.slice(0, end + 4 + length);
        buf = buf.slice(end + 4 + length);
        answer(socket, request, n++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
    server,
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(answer: (socket: net.Socket, request: string, n: number) => void) {
  const srv = await rawServer(answer);
  let count = 0;
  srv.server.on('connection', () => count++);
  const f = createHttpFetch({ maxResponseBytes: 1000 });
  cleanups.push(() => f.close(), () => srv.close());
  return { url: srv.url, fetch: f.fetch, connectionCount: () => count };
}

describe('HTTP/1.1 exchanges for our fetch', () => {
  it('reads a chunked answer split anywhere, with chunk extensions and trailers, and keeps the socket', async () => {
    const body = '{"text":"héllo wörld"}';
    const bytes = Buffer.from(body);
    const wire = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from(`5;ext=1\r\n`),
      bytes.subarray(0, 5),
      Buffer.from(`\r\n${(bytes.length - 5).toString(16)}\r\n`),
      bytes.subarray(5),
      Buffer.from('\r\n0\r\nX-Trailer: t\r\n\r\n'),
    ]);
    const { url, fetch, connectionCount } = await setup((socket) => {
      // one byte at a time: every boundary of the framing falls between two reads
      let i = 0;
      const next = () => {
        if (i < wire.length) socket.write(wire.subarray(i, ++i), () => setImmediate(next));
      };
      next();
    });
    for (let k = 0; k < 3; k++) {
      const res = await fetch(`${url}/c`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(JSON.parse(body));
    }
    expect(connectionCount()).toBe(1);
  });

  it('sends one request as head and body on a kept-alive socket: Host, Connection, content-length, headers as given', async () => {
    const seen: string[] = [];
    const { url, fetch, connectionCount } = await setup((socket, request) => {
      seen.push(request);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const port = new URL(url).port;
    await (await fetch(`${url}/v1/x?q=1`, { method: 'POST', body: 'é', headers: { 'X-Key': 'v' } })).text();
    await (await fetch(`${url}/v1/x`)).text();
    expect(seen[0]).toBe(`POST /v1/x?q=1 HTTP/1.1\r\nx-key: v\r\ncontent-length: 2\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\né`.replace('é', Buffer.from('é').toString('latin1')));
    expect(seen[1]).toMatch(/^GET \/v1\/x HTTP\/1\.1\r\n/);
    expect(connectionCount()).toBe(1);
  });

  it('skips interim answers (100 Continue) and reads an answer without length until the connection closes', async () => {
    const { url, fetch } = await setup((socket, _req, n) => {
      if (n === 0) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc');
      else socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close');
    });
    const first = await fetch(`${url}/a`);
    expect([first.status, await first.text()]).toEqual([201, 'abc']);
    const second = await fetch(`${url}/b`);
    expect([second.status, await second.text()]).toEqual([200, 'until close']);
  });

  it('opens a new connection after the server says close, or closes an idle one, and for requests in parallel', async () => {
    const { url, fetch, connectionCount } = await setup((socket, _req, n) => {
      if (n === 0) socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na');
      else if (n === 1) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
        // the server times the idle connection out
        setTimeout(() => socket.end(), 5);
      } else setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc'), 5);
    });
    expect(await (await fetch(url)).text()).toBe('a');
    expect(await (await fetch(url)).text()).toBe('b');
    await new Promise((r) => setTimeout(r, 30));
    const texts = await Promise.all([1, 2, 3].map(async () => (await fetch(url)).text()));
    expect(texts).toEqual(['c', 'c', 'c']);
    expect(connectionCount()).toBe(5);
  });

  it('does not reuse a socket whose answer was followed by stray bytes', async () => {
    const { url, fetch, connectionCount } = await setup((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naXYZ'));
    expect(await (await fetch(url)).text()).toBe('a');
    expect(await (await fetch(url)).text()).toBe('a');
    expect(connectionCount()).toBe(2);
  });

  it('refuses header values that would add lines, and garbled answers, as fetch failures or TypeErrors', async () => {
    const { url, fetch } = await setup((socket, request) => {
      if (request.startsWith('GET /garbled')) socket.write('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n');
      else if (request.startsWith('GET /length')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n');
      else socket.write('hello\r\n\r\n');
    });
    await expect(fetch(url, { headers: { 'x-a': 'v\r\nx-injected: 1' } })).rejects.toThrow(/Invalid character in header content/);
    await expect(fetch(url, { headers: { 'bad name': 'v' } })).rejects.toThrow(/valid HTTP token/);
    for (const p of ['/garbled', '/length', '/other']) {
      const err = (await fetch(`${url}${p}`).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toBe('fetch failed');
      expect((err.cause as { code?: string }).code).toMatch(/^HPE_/);
    }
  });

  it('caps chunked and unframed bodies as it caps declared ones', async () => {
    const big = 'x'.repeat(600);
    const { url, fetch } = await setup((socket, request) => {
      if (request.startsWith('GET /declared')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n');
      else if (request.startsWith('GET /chunked')) socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${big}\r\n258\r\n${big}\r\n0\r\n\r\n`);
      else socket.write(`HTTP/1.1 200 OK\r\n\r\n${big}${big}`);
    });
    for (const p of ['/declared', '/chunked', '/unframed']) {
      await expect(fetch(`${url}${p}`)).rejects.toMatchObject({ code: 'malformed_response', message: expect.stringMatching(/capped at 1000 bytes/) });
    }
  });

  it('talks to node:http servers: many requests in parallel on few sockets, HEAD without a body', async () => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '10' }).end();
        // half the answers chunked (no length), half with one
        if (body.length % 2) res.write(body);
        res.end(body.length % 2 ? '' : body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    let count = 0;
    server.on('connection', () => count++);
    const f = createHttpFetch();
    cleanups.push(
      () => f.close(),
      () => {
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
      },
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    for (let round = 0; round < 3; round++) {
      const bodies = Array.from({ length: 20 }, (_, i) => 'b'.repeat(i + 1));
      const texts = await Promise.all(bodies.map(async (b) => (await f.fetch(url, { method: 'POST', body: b })).text()));
      expect(texts).toEqual(bodies);
    }
    expect(count).toBeLessThanOrEqual(20);
    const head = await f.fetch(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '10', '']);
    expect(await (await f.fetch(url, { method: 'POST', body: 'after head' })).text()).toBe('after head');
  });

  it('speaks TLS to https: origins and checks the certificate (a self-signed one is refused)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sclab-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    let served = 0;
    const server = https.createServer({ key: readFileSync(path.join(dir, 'k.pem')), cert: readFileSync(path.join(dir, 'c.pem')) }, (_req, res) => {
      served++;
      res.end('secret');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const f = createHttpFetch();
    cleanups.push(
      () => f.close(),
      () => new Promise((r) => server.close(r)),
    );
    const err = (await f.fetch(`https://localhost:${(server.address() as AddressInfo).port}/`).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TypeError);
    expect((err.cause as { code?: string }).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(served).toBe(0);
  });
});
