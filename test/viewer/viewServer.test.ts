import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewServer, viewerAssetsDir, type ViewServer } from '../../src/cli/commands/view';
import { createViewerService } from '../../src/core/viewer/service';
import { renderStaticViewer } from '../../src/core/viewer/static';
import { requestKey } from '../../src/core/viewer/protocol';
import { HOSTILE, writeSyntheticRun } from './syntheticRun';

let tmp: string;
let runDir: string;
let server: ViewServer;

function request(opts: { method?: string; path?: string; host?: string; body?: string; type?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { host: opts.host ?? `127.0.0.1:${server.port}`, ...(opts.type ? { 'content-type': opts.type } : {}) } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sclab-view-server-'));
  runDir = (await writeSyntheticRun(path.join(tmp, 'run'), { items: 30, rounds: 2, layers: 4, hostile: HOSTILE })).dir;
  server = await startViewServer({ service: createViewerService({ runDir, analysis: { bootstrap: { resamples: 20 } } }), assetsDir: viewerAssetsDir() });
});
afterAll(async () => {
  await server.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('sclab view server', () => {
  it('listens on 127.0.0.1 only and serves the page with a nonce CSP', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await request({});
    expect(r.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(r.headers['content-security-policy'] as string)![1]!;
    expect(r.body).toContain(`<script nonce="${nonce}" src="viewer.js">`);
    expect(r.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const again = await request({});
    expect(again.body).not.toContain(nonce); // a fresh nonce per page
    expect((await request({ path: '/viewer.js' })).status).toBe(200);
  });

  it('refuses another Host (DNS rebinding)', async () => {
    expect((await request({ host: 'evil.example:80' })).status).toBe(403);
    expect((await request({ method: 'POST', path: '/api/message', host: `attacker.test:${server.port}`, type: 'application/json', body: '{}' })).status).toBe(403);
  });

  it('answers requests through the service and rejects bad messages', async () => {
    const ok = await request({ method: 'POST', path: '/api/message', type: 'application/json', body: JSON.stringify({ kind: 'request', id: 5, method: 'samples', params: { offset: 0, limit: 3 } }) });
    expect(ok.status).toBe(200);
    const res = JSON.parse(ok.body);
    expect(res).toMatchObject({ kind: 'response', id: 5, ok: true });
    expect(res.result.rows).toHaveLength(3);
    const bad = await request({ method: 'POST', path: '/api/message', type: 'application/json', body: JSON.stringify({ kind: 'request', id: 6, method: 'samples', params: { offset: 0, limit: 100000 } }) });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ id: 6, ok: false, error: { code: 'bad_request' } });
    expect((await request({ method: 'POST', path: '/api/message', type: 'application/json', body: '{not json' })).status).toBe(400);
    expect((await request({ method: 'POST', path: '/api/message', type: 'text/plain', body: '{}' })).status).toBe(415);
    expect((await request({ method: 'POST', path: '/api/message', type: 'application/json', body: JSON.stringify({ kind: 'command', command: 'ready', args: {} }) })).status).toBe(204);
    expect((await request({ method: 'POST', path: '/api/message', type: 'application/json', body: 'x'.repeat(70 * 1024) })).status).toBe(413);
    expect((await request({ path: '/../../etc/passwd' })).status).toBe(400); // dot segments are refused outright
  });
});

describe('static viewer', () => {
  it('embeds the first page of each view under the keys the app asks with, and no hostile text unescaped', async () => {
    const html = await renderStaticViewer(runDir, { assetsDir: viewerAssetsDir(), analysis: { bootstrap: { resamples: 20 } }, itemDetails: 3 });
    for (const s of HOSTILE) expect(html).not.toContain(s);
    const open = '<script type="application/json" id="sclab-static-answers">';
    const start = html.indexOf(open) + open.length;
    const answers = JSON.parse(html.slice(start, html.indexOf('</script', start))) as Record<string, unknown>;
    for (const m of ['overview', 'ranks', 'probes', 'instructions', 'compare'] as const) expect(answers[requestKey(m, {})], m).toBeDefined();
    expect(answers[requestKey('samples', { offset: 0, limit: 100 })]).toMatchObject({ total: 60 });
    expect(answers[requestKey('item', { itemId: 'bbq-00000' })]).toBeDefined();
    expect(Object.keys(answers).filter((k) => k.startsWith('item:'))).toHaveLength(3);
    // the hostile text is in there, as data
    const item = answers[requestKey('item', { itemId: 'bbq-00001' })] as { item: { fields: Record<string, string> } };
    expect(item.item.fields.context).toContain(HOSTILE[1]);
  });
});

describe('hostile requests', () => {
  it('answers "GET //" with 400 and keeps serving (any page could crash it with fetch("http://127.0.0.1:PORT//"))', async () => {
    const { sendRaw } = await import('../support/request-fuzz');
    expect(await sendRaw(server.port, 'GET // HTTP/1.1', { host: `127.0.0.1:${server.port}` })).toBe(400);
    expect((await request({ path: '/' })).status).toBe(200);
  });

  it('survives a fuzz of malformed request lines: every answer is 4xx (or a closed socket), and it still serves', async () => {
    const { malformedRequestLines, randomRequestLines, sendRaw } = await import('../support/request-fuzz');
    for (const line of malformedRequestLines()) {
      const status = await sendRaw(server.port, line, { host: `127.0.0.1:${server.port}` });
      expect(status === null || status === 400 || status === 414 || status === 431, `${JSON.stringify(line)} → ${status}`).toBe(true);
    }
    for (const line of randomRequestLines()) {
      const status = await sendRaw(server.port, line, { host: `127.0.0.1:${server.port}` });
      expect(status === null || status < 500, `${JSON.stringify(line)} → ${status}`).toBe(true);
    }
    expect((await request({ path: '/' })).status).toBe(200);
  });

  it('refuses pages of other origins and non-JSON posts; its own page may post', async () => {
    const { sendRaw } = await import('../support/request-fuzz');
    const host = `127.0.0.1:${server.port}`;
    const msg = JSON.stringify({ kind: 'request', id: 1, method: 'overview', params: {} });
    const post = (headers: Record<string, string>) => sendRaw(server.port, 'POST /api/message HTTP/1.1', { host, ...headers });
    expect(await post({ origin: 'https://evil.example', 'content-type': 'application/json' })).toBe(403);
    expect(await post({ 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })).toBe(403);
    expect(await post({ origin: `http://${host}`, 'content-type': 'text/plain' })).toBe(415);
    expect((await request({ method: 'POST', path: '/api/message', type: 'application/json', body: msg })).status).toBe(200);
  });
});
