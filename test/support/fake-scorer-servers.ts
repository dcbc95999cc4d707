// Local stand-ins for the toxicity services, for tests: the Perspective API (comments:analyze), the OpenAI
// moderation endpoint (/v1/moderations) and a generic {texts} → {scores} scorer. They listen on 127.0.0.1 at a free
// port, record every request, score text deterministically (fakeToxicity), and inject faults per request.
/* eslint-disable @typescript-eslint/no-explicit-any -- request bodies are arbitrary client JSON */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ScorerFault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'malformed' }
  | { kind: 'reset' }
  /** a well-formed JSON answer of the wrong shape */
  | { kind: 'json'; body: unknown };

export interface ScorerRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface FakeScorerServer {
  /** base URL: perspective http://127.0.0.1:P/v1alpha1, moderation http://127.0.0.1:P/v1, http http://127.0.0.1:P/score */
  url: string;
  requests: ScorerRequest[];
  close(): Promise<void>;
}

interface Common {
  /** decide per request (index counts requests from 0) */
  faults?: (index: number, req: ScorerRequest) => ScorerFault | undefined;
  /** a badly behaved server: error bodies quote the key it received */
  leakKeyInErrors?: boolean;
}

const BAD_WORDS = ['idiot', 'stupid', 'hate', 'moron'];

/** 0.05 plus 0.3 per offensive word, at most 0.99: enough to tell texts apart and order them */
export function fakeToxicity(text: string): number {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  const bad = words.filter((w) => BAD_WORDS.includes(w)).length;
  return Math.min(0.99, Math.round((0.05 + 0.3 * bad) * 1e4) / 1e4);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function applyFault(f: ScorerFault, res: http.ServerResponse, leaked: string | undefined): void {
  switch (f.kind) {
    case 'status': {
      const body = f.body ?? JSON.stringify({ error: { code: f.status, message: `fault ${f.status}${leaked ? ` for key ${leaked}` : ''}` } });
      send(res, f.status, body, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      return;
    }
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"scores": [0.1, ');
      return;
    case 'reset':
      res.socket?.destroy();
      return;
    case 'json':
      send(res, 200, f.body);
  }
}

async function serve(
  common: Common,
  keyOf: (req: ScorerRequest) => string | undefined,
  handle: (req: ScorerRequest, res: http.ServerResponse) => void,
  basePath: string,
): Promise<FakeScorerServer> {
  const requests: ScorerRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        send(res, 400, { error: { message: 'body is not JSON' } });
        return;
      }
      const r: ScorerRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
      const index = requests.length;
      requests.push(r);
      const fault = common.faults?.(index, r);
      if (fault) return applyFault(fault, res, common.leakKeyInErrors ? keyOf(r) : undefined);
      handle(r, res);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Perspective: POST /v1alpha1/comments:analyze?key=K with {comment: {text}, requestedAttributes: {NAME: {}}} */
export function startFakePerspective(opts: Common & { key?: string } = {}): Promise<FakeScorerServer> {
  return serve(
    opts,
    (r) => r.query.get('key') ?? undefined,
    (r, res) => {
      if (r.method !== 'POST' || r.path !== '/v1alpha1/comments:analyze') return send(res, 404, { error: { message: `no route ${r.path}` } });
      if (opts.key !== undefined && r.query.get('key') !== opts.key) {
        return send(res, 403, { error: { code: 403, message: `API key not valid: ${r.query.get('key')}`, status: 'PERMISSION_DENIED' } });
      }
      const text = r.body?.comment?.text;
      const attrs = Object.keys(r.body?.requestedAttributes ?? {});
      if (typeof text !== 'string' || text === '' || attrs.length === 0) return send(res, 400, { error: { code: 400, message: 'Comment must be non-empty.', status: 'INVALID_ARGUMENT' } });
      const attributeScores: Record<string, unknown> = {};
      for (const a of attrs) {
        const v = a === 'TOXICITY' ? fakeToxicity(text) : fakeToxicity(text) / 2;
        attributeScores[a] = { spanScores: [{ begin: 0, end: text.length, score: { value: v, type: 'PROBABILITY' } }], summaryScore: { value: v, type: 'PROBABILITY' } };
      }
      send(res, 200, { attributeScores, languages: r.body.languages ?? ['en'], detectedLanguages: ['en'] });
    },
    '/v1alpha1',
  );
}

export const FAKE_MODERATION_MODEL = 'omni-moderation-2024-09-26';

/** OpenAI moderation: POST /v1/moderations with {model, input: string | string[]} and a bearer key */
export function startFakeModeration(opts: Common & { key?: string } = {}): Promise<FakeScorerServer> {
  return serve(
    opts,
    (r) => String(r.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || undefined,
    (r, res) => {
      if (r.method !== 'POST' || r.path !== '/v1/moderations') return send(res, 404, { error: { message: `no route ${r.path}` } });
      if (opts.key !== undefined && r.headers.authorization !== `Bearer ${opts.key}`) {
        return send(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      }
      const input: unknown = r.body?.input;
      const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : null;
      if (!texts || texts.some((t) => typeof t !== 'string')) return send(res, 400, { error: { message: 'input must be a string or an array of strings' } });
      const model = r.body.model === 'omni-moderation-latest' || r.body.model === undefined ? FAKE_MODERATION_MODEL : String(r.body.model);
      const results = (texts as string[]).map((t) => {
        const v = fakeToxicity(t);
        // harassment carries the score; hate half of it; violence a fixed small value; self-harm high on purpose
        // (it is not part of the "toxicity" attribute, so tests can see which categories count)
        const category_scores: Record<string, number> = {
          harassment: v,
          'harassment/threatening': v / 4,
          hate: v / 2,
          'hate/threatening': 0.001,
          illicit: 0.002,
          'illicit/violent': 0.001,
          'self-harm': t.includes('self-harm') ? 0.97 : 0.001,
          'self-harm/instructions': 0.001,
          'self-harm/intent': 0.001,
          sexual: 0.003,
          'sexual/minors': 0.001,
          violence: 0.02,
          'violence/graphic': 0.001,
        };
        const categories = Object.fromEntries(Object.entries(category_scores).map(([k, s]) => [k, s > 0.5]));
        return { flagged: Object.values(categories).some(Boolean), categories, category_scores, category_applied_input_types: {} };
      });
      send(res, 200, { id: `modr-${Math.random().toString(36).slice(2)}`, model, results });
    },
    '/v1',
  );
}

/** Generic scorer: POST /score with {texts} → {scores, version}; shape "objects" answers Detoxify-like objects */
export function startFakeHttpScorer(opts: Common & { key?: string; shape?: 'numbers' | 'objects'; version?: string } = {}): Promise<FakeScorerServer> {
  return serve(
    opts,
    (r) => String(r.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || undefined,
    (r, res) => {
      if (r.method !== 'POST' || r.path !== '/score') return send(res, 404, { detail: `no route ${r.path}` });
      if (opts.key !== undefined && r.headers.authorization !== `Bearer ${opts.key}`) return send(res, 401, { detail: 'bad key' });
      const texts: unknown = r.body?.texts;
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) return send(res, 422, { detail: 'texts must be an array of strings' });
      const scores = (texts as string[]).map((t) => (opts.shape === 'objects' ? { toxicity: fakeToxicity(t), insult: fakeToxicity(t) / 2, nested: { toxic: fakeToxicity(t) } } : fakeToxicity(t)));
      send(res, 200, { scores, ...(opts.version ? { version: opts.version } : {}) });
    },
    '/score',
  );
}
