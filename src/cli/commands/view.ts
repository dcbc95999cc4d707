// `sclab view RUN_DIR`: the results viewer in a browser, served from 127.0.0.1 only, with the same app and message
// contract as the VS Code panel (POST /api/message → the data service). `--static FILE` writes the self-contained
// interactive HTML instead.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Command } from 'commander';
import { SclabError } from '../../core/model/errors';
import { renderViewerHtml } from '../../core/viewer/html';
import { errorResponse, safeParseAppMessage } from '../../core/viewer/protocol';
import { createViewerService, type ViewerService } from '../../core/viewer/service';
import { readViewerAssets, renderStaticViewer } from '../../core/viewer/static';
import { readManifest, writeFileAtomic } from '../../core/runner/store';
import { guardRequest } from '../../core/util/request-guard';
import { addAnalysisFlags, analysisOptions, type AnalysisFlags } from './analysisFlags';

const MAX_BODY = 64 * 1024;

/** dist/webview next to the bundled CLI, or under the repository when running from source (tests, the bench). */
export function viewerAssetsDir(): string {
  const candidates = [path.join(__dirname, 'webview'), path.resolve(__dirname, '../../../dist/webview'), path.resolve(__dirname, '../dist/webview'), path.resolve(process.cwd(), 'dist/webview')];
  return candidates.find((d) => existsSync(path.join(d, 'viewer.js'))) ?? candidates[0]!;
}

export interface ViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startViewServer(opts: { service: ViewerService; assetsDir: string; port?: number; title?: string }): Promise<ViewServer> {
  const assets = await readViewerAssets(opts.assetsDir);
  let port = 0;
  const send = (res: http.ServerResponse, { status, type, body, headers = {} }: { status: number; type: string; body: string | Buffer; headers?: Record<string, string> }) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', ...headers });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    // malformed targets, foreign Host (DNS rebinding), pages of other origins, non-JSON posts: refused here
    const verdict = guardRequest(req, { port, hosts: 'loopback', browsers: 'same-origin' });
    if (!verdict.ok) return send(res, { status: verdict.status, type: 'text/plain', body: `${verdict.message}\n` });
    const url = { pathname: verdict.target.path };
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      const nonce = randomBytes(18).toString('base64');
      const html = renderViewerHtml({ scriptUri: 'viewer.js', styleUri: 'viewer.css', cspSource: "'self'", connectSrc: "'self'", nonce, title: opts.title });
      return send(res, { status: 200, type: 'text/html; charset=utf-8', body: html, headers: { 'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'` } });
    }
    if (req.method === 'GET' && url.pathname === '/viewer.js') return send(res, { status: 200, type: 'text/javascript; charset=utf-8', body: assets.script });
    if (req.method === 'GET' && url.pathname === '/viewer.css') return send(res, { status: 200, type: 'text/css; charset=utf-8', body: assets.style });
    if (req.method === 'POST' && url.pathname === '/api/message') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c); // beyond: drained, not kept
      });
      req.on('end', () => {
        if (size > MAX_BODY) return send(res, { status: 413, type: 'application/json', body: JSON.stringify(errorResponse(0, new SclabError('bad_request', `message over ${MAX_BODY} bytes`))) });
        let raw: unknown;
        try {
          raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return send(res, { status: 400, type: 'application/json', body: JSON.stringify(errorResponse(0, new SclabError('bad_request', 'the body is not JSON'))) });
        }
        const parsed = safeParseAppMessage(raw);
        if (!parsed.ok) return send(res, { status: 400, type: 'application/json', body: JSON.stringify(parsed.response) });
        // commands (reveal, open, export) belong to an editor host; the browser host has nothing to do with them
        if (parsed.message.kind === 'command') return send(res, { status: 204, type: 'text/plain', body: '' });
        void opts.service.respond(parsed.message).then(
          (r) => send(res, { status: 200, type: 'application/json', body: JSON.stringify(r) }),
          (err: unknown) => send(res, { status: 500, type: 'application/json', body: JSON.stringify(errorResponse('id' in parsed.message ? parsed.message.id : 0, new SclabError('internal', err instanceof Error ? err.message : String(err)))) }),
        );
      });
      return;
    }
    send(res, { status: 404, type: 'text/plain', body: 'not found\n' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new SclabError('io', `cannot listen on 127.0.0.1:${opts.port ?? 0} (${err.code ?? err.message})`)));
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens the URL in the default browser; never fails (a headless machine has none). */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""', url] : ['xdg-open', url];
  try {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`(could not open a browser; open ${url} yourself)\n`));
    child.unref();
  } catch {
    process.stderr.write(`(could not open a browser; open ${url} yourself)\n`);
  }
}

interface ViewFlags extends AnalysisFlags {
  port?: string;
  compare?: string;
  open: boolean;
  static?: string;
}

export function registerViewCommand(program: Command): void {
  addAnalysisFlags(
    program
      .command('view')
      .description('the interactive results viewer in your browser (127.0.0.1 only), or --static FILE for one self-contained HTML file')
      .argument('<runDir>', 'a run folder (.sclab/runs/<id>)')
      .option('--port <port>', 'port on 127.0.0.1 (default: any free port)')
      .option('--compare <runDir2>', 'a second run for the Compare page')
      .option('--no-open', 'print the URL without opening a browser')
      .option('--static <file>', 'write the interactive viewer as one self-contained HTML file and exit'),
  ).action(async (runDir: string, flags: ViewFlags) => {
    const analysis = analysisOptions(flags);
    await readManifest(runDir); // fail early, with the manifest's own message, on a folder that is not a run
    if (flags.compare) await readManifest(flags.compare);
    const assetsDir = viewerAssetsDir();
    if (flags.static) {
      const html = await renderStaticViewer(runDir, { assetsDir, analysis, ...(flags.compare ? { compareRunDir: flags.compare } : {}) });
      const file = path.resolve(flags.static);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, html);
      process.stdout.write(`viewer: ${file}\n`);
      return;
    }
    let port: number | undefined;
    if (flags.port !== undefined) {
      port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SclabError('config', `--port ${flags.port}: expected 0–65535`);
    }
    const service = createViewerService({ runDir, analysis, ...(flags.compare ? { compareRunDir: flags.compare } : {}) });
    const server = await startViewServer({ service, assetsDir, port, title: `Self-Correction Lab: ${path.basename(path.resolve(runDir))}` });
    process.stdout.write(`viewer: ${server.url}\n(Ctrl+C to stop)\n`);
    if (flags.open) openBrowser(server.url);
    // start reading and analysing now, so the first page is ready sooner
    void service.handle({ kind: 'request', id: 1, method: 'overview', params: {} });
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}
