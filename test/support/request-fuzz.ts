// Malformed request lines for the servers' fuzz tests: fixed nasty cases plus seeded random ones. Each is sent on
// its own raw socket; the answer's status (or null when the server closed without one) comes back.
import { connect } from 'node:net';

export const NASTY_TARGETS = [
  '//',
  '//evil.example/x',
  '///',
  'http://evil.example/',
  '*',
  '',
  '/%zz',
  '/%',
  '/\\',
  '/a/../b',
  '/./',
  '/%2e%2e/x',
  '/#frag',
  `/${'a'.repeat(9000)}`,
  '/\u00e9',
  '/\u0000',
  '/v1/info\t',
];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Request lines that are all wrong: every nasty target under GET and POST, odd methods and versions. */
export function malformedRequestLines(): string[] {
  const lines: string[] = [];
  for (const t of NASTY_TARGETS) lines.push(`GET ${t} HTTP/1.1`, `POST ${t} HTTP/1.1`);
  lines.push('GARBAGE', 'GET / HTTP/9.9', 'GET', ' / HTTP/1.1', 'G\u00c9T / HTTP/1.1', 'CONNECT 127.0.0.1:1 HTTP/1.1', 'OPTIONS * HTTP/1.1');
  return lines;
}

/** `n` seeded random request lines (some happen to be valid). */
export function randomRequestLines(n = 150, seed = 7): string[] {
  const lines: string[] = [];
  const rnd = lcg(seed);
  const alphabet = '/\\?#%.:@*[]{}<>"\'`^|~ \t-_=+&;,!$()azAZ09\u0000\u007f\u00ff\u2028';
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rnd() * 40);
    let t = '';
    for (let j = 0; j < len; j++) t += alphabet[Math.floor(rnd() * alphabet.length)];
    lines.push(`${rnd() < 0.5 ? 'GET' : 'POST'} ${t} HTTP/1.1`);
  }
  return lines;
}

/** Sends one raw request; resolves with the status line's code, or null when the server closed without answering. */
export function sendRaw(port: number, requestLine: string, headers: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : null);
    });
    const head = Object.entries({ ...headers, connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(Buffer.from(`${requestLine}\r\n${head}content-length: 0\r\n\r\n`, 'latin1'));
  });
}
