// HTTP/1.1 exchanges over kept-alive sockets, for our fetch (http-fetch.ts). A run's requests are small JSON
// exchanges at up to a few hundred in flight; node:http's ClientRequest / IncomingMessage machinery (an agent, a
// stream per body, events per chunk) costs more CPU per request than everything else the run does for it (see
// bench:scale). Here one request is one socket write of head and body, and the answer is read from the socket's
// chunks directly: a status line, headers, then a body by content-length, chunked transfer coding, or until close.
import net from 'node:net';
import tls from 'node:tls';

/** Where requests go: one pool of idle sockets per origin. */
export interface Origin {
  protocol: 'http:' | 'https:';
  /** host name or address as sockets take it (IPv6 without brackets) */
  host: string;
  port: number;
  /** the Host header: host, with the port when it is not the protocol's default */
  hostHeader: string;
}

export interface Http1Answer {
  status: number;
  statusText: string;
  /** name, value, name, value… as received (names in their original case) */
  rawHeaders: string[];
  body: Buffer;
}

/** A cut or garbled answer (a socket's own failures come as its errors); fetch reports either as its `cause`. */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Thrown (as is) when an answer's body goes beyond the cap; `declared` when its content-length said so up front. */
export class AnswerTooLarge extends Error {
  constructor(readonly declared: number | undefined) {
    super('answer too large');
  }
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const MAX_IDLE_SOCKETS = 256;

/** Sockets of one origin kept open between requests; `close()` ends them all. */
export class Http1Pool {
  private readonly idle = new Map<string, net.Socket[]>();
  private readonly open = new Set<net.Socket>();
  private closed = false;

  /**
   * Sends one request and reads its answer. `head` is the request line and headers (each line ended by CRLF, no
   * blank line); the pool adds Host, Connection and the blank line. Rejects with the socket's error, ExchangeError (a
   * cut or garbled answer), AnswerTooLarge, or `abortError()` when `signal` aborts.
   */
  request(origin: Origin, head: string, body: string | Buffer | undefined, opts: { signal?: AbortSignal; maxBodyBytes: number; abortError: () => Error; noBody?: boolean }): Promise<Http1Answer> {
    const key = `${origin.protocol}//${origin.host}:${origin.port}`;
    return new Promise<Http1Answer>((resolve, reject) => {
      if (this.closed) return reject(new ExchangeError('the connection pool is closed', 'ECONNABORTED'));
      const socket = this.take(key) ?? this.connect(origin);
      const reading = new AnswerReader(opts.maxBodyBytes, opts.noBody === true);
      let settled = false;
      const finish = (err: Error | undefined, answer?: Http1Answer, keep = false) => {
        if (settled) return;
        settled = true;
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onClose);
        socket.off('error', onError);
        opts.signal?.removeEventListener('abort', onAbort);
        if (keep && !this.closed) this.putBack(key, socket);
        else socket.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const onData = (chunk: Buffer) => {
        let answer: Http1Answer | undefined;
        try {
          answer = reading.push(chunk);
        } catch (err) {
          return finish(err as Error);
        }
        if (answer) finish(undefined, answer, reading.keepAlive && !reading.extraBytes);
      };
      const onEnd = () => {
        // an answer without a length ends with the connection
        const answer = reading.ended();
        if (answer) finish(undefined, answer);
        else finish(new ExchangeError(reading.started ? 'connection closed while reading the answer' : 'the server closed the connection without an answer', 'ECONNRESET'));
      };
      const onClose = () => finish(new ExchangeError('the connection closed', 'ECONNRESET'));
      const onError = (err: Error) => finish(err);
      const onAbort = () => finish(opts.abortError());
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('error', onError);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      socket.ref();
      const start = `${head}Host: ${origin.hostHeader}\r\nConnection: keep-alive\r\n\r\n`;
      // header values travel as latin1 (as node:http sends them), the body as UTF-8
      if (/[^\x00-\x7f]/.test(start)) {
        socket.cork();
        socket.write(Buffer.from(start, 'latin1'));
        if (body !== undefined) socket.write(body);
        socket.uncork();
      } else if (body === undefined) socket.write(start);
      else if (typeof body === 'string') socket.write(start + body);
      else {
        socket.cork();
        socket.write(start);
        socket.write(body);
        socket.uncork();
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.open) s.destroy();
    this.open.clear();
    this.idle.clear();
  }

  private take(key: string): net.Socket | undefined {
    const list = this.idle.get(key);
    for (let s = list?.pop(); s; s = list!.pop()) {
      s.off('data', idleData);
      s.off('end', idleEnd);
      if (!s.destroyed && s.readyState === 'open') return s;
    }
    return undefined;
  }

  private putBack(key: string, socket: net.Socket): void {
    if (socket.destroyed) return;
    // an idle socket holds the process open no longer than node:http's agent would; data or an end while idle
    // (the server timed it out) closes it, so that no request is written into a dying connection
    socket.unref();
    socket.on('data', idleData);
    socket.on('end', idleEnd);
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    // as many idle sockets as node:http's agent keeps by default; the scheduler bounds those in flight anyway
    if (list.length >= MAX_IDLE_SOCKETS) socket.destroy();
    else list.push(socket);
  }

  private connect(origin: Origin): net.Socket {
    const socket =
      origin.protocol === 'https:'
        ? tls.connect({ host: origin.host, port: origin.port, servername: net.isIP(origin.host) ? undefined : origin.host, ALPNProtocols: ['http/1.1'] })
        : net.connect({ host: origin.host, port: origin.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    this.open.add(socket);
    socket.on('close', () => {
      this.open.delete(socket);
      const key = `${origin.protocol}//${origin.host}:${origin.port}`;
      const list = this.idle.get(key);
      const i = list?.indexOf(socket) ?? -1;
      if (i >= 0) list!.splice(i, 1);
    });
    // errors while idle end the socket; during an exchange the request's own handler reports them
    socket.on('error', () => undefined);
    return socket;
  }
}

function idleData(this: net.Socket): void {
  this.destroy();
}
function idleEnd(this: net.Socket): void {
  this.destroy();
}

const enum Phase {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

/** Reads one answer from a socket's chunks: interim (1xx) answers skipped, the body by its framing. */
class AnswerReader {
  started = false;
  keepAlive = true;
  extraBytes = false;
  private phase = Phase.Head;
  private pending: Buffer | undefined;
  private status = 0;
  private statusText = '';
  private rawHeaders: string[] = [];
  private bodyChunks: Buffer[] = [];
  private bodyBytes = 0;
  private remaining = 0;
  /** chunked: bytes of the current chunk still to come (data + CRLF), or -1 while reading a size line */
  private chunkLeft = -1;
  private trailers = false;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly noBody: boolean,
  ) {}

  /** the answer once complete; throws on a garbled answer or a body over the cap */
  push(chunk: Buffer): Http1Answer | undefined {
    this.started = true;
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    for (;;) {
      if (this.phase === Phase.Head) {
        const end = buf.indexOf(CRLF_CRLF);
        if (end < 0) {
          if (buf.length > 64 * 1024) throw new ExchangeError('the answer\'s headers are over 64 KiB', 'HPE_HEADER_OVERFLOW');
          this.pending = buf;
          return undefined;
        }
        this.readHead(buf.toString('latin1', 0, end));
        buf = buf.subarray(end + 4);
        if (this.phase === Phase.Head) continue; // an interim answer: the real one follows
      }
      if (this.phase === Phase.Length) {
        const take = Math.min(this.remaining, buf.length);
        if (take > 0) this.addBody(buf.subarray(0, take));
        this.remaining -= take;
        buf = buf.subarray(take);
        if (this.remaining > 0) return undefined;
        this.phase = Phase.Done;
      } else if (this.phase === Phase.Chunked) {
        const rest = this.readChunks(buf);
        if (rest === undefined) return undefined;
        buf = rest;
        this.phase = Phase.Done;
      } else if (this.phase === Phase.UntilClose) {
        if (buf.length > 0) this.addBody(buf);
        return undefined;
      }
      if (buf.length > 0) this.extraBytes = true;
      return this.answer();
    }
  }

  /** the connection ended: an answer read until close is complete now */
  ended(): Http1Answer | undefined {
    if (this.phase !== Phase.UntilClose) return undefined;
    this.phase = Phase.Done;
    this.keepAlive = false;
    return this.answer();
  }

  private answer(): Http1Answer {
    const body = this.bodyChunks.length === 1 ? this.bodyChunks[0]! : Buffer.concat(this.bodyChunks, this.bodyBytes);
    return { status: this.status, statusText: this.statusText, rawHeaders: this.rawHeaders, body };
  }

  private addBody(part: Buffer): void {
    this.bodyBytes += part.length;
    if (this.bodyBytes > this.maxBodyBytes) throw new AnswerTooLarge(undefined);
    this.bodyChunks.push(part);
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw new ExchangeError(`not an HTTP/1.x answer: ${JSON.stringify(lines[0]!.slice(0, 40))}`, 'HPE_INVALID_CONSTANT');
    const status = Number(m[2]);
    const raw: string[] = [];
    let length: number | undefined;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ExchangeError(`a garbled header line in the answer: ${JSON.stringify(line.slice(0, 40))}`, 'HPE_INVALID_HEADER_TOKEN');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      raw.push(name, value);
      // only three names matter here: the others are not lower-cased at all
      const lower = name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : '';
      if (lower === 'content-length') {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!Number.isSafeInteger(n) || (length !== undefined && length !== n)) throw new ExchangeError(`a bad content-length in the answer: ${JSON.stringify(value)}`, 'HPE_INVALID_CONTENT_LENGTH');
        length = n;
      } else if (lower === 'transfer-encoding') chunked = value.toLowerCase().split(',').map((s) => s.trim()).at(-1) === 'chunked';
      else if (lower === 'connection') connection += `${value.toLowerCase()},`;
    }
    // interim answers (100 Continue, 103 Early Hints) come before the real one; 101 would switch protocols
    if (status >= 100 && status < 200 && status !== 101) return;
    this.status = status;
    this.statusText = m[3] ?? '';
    this.rawHeaders = raw;
    const http10 = m[1] === '0';
    this.keepAlive = http10 ? /(^|,)\s*keep-alive\s*(,|$)/.test(connection) : !/(^|,)\s*close\s*(,|$)/.test(connection);
    if (this.noBody || status === 204 || status === 304 || status === 101) {
      this.phase = Phase.Length;
      this.remaining = 0;
    } else if (chunked) {
      this.phase = Phase.Chunked;
    } else if (length !== undefined) {
      if (length > this.maxBodyBytes) throw new AnswerTooLarge(length);
      this.phase = Phase.Length;
      this.remaining = length;
    } else {
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
    }
  }

  /** reads chunks from `buf`; the bytes after the last chunk and trailers, or undefined when more must come */
  private readChunks(buf: Buffer): Buffer | undefined {
    for (;;) {
      if (this.chunkLeft < 0 || this.trailers) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) {
          if (buf.length > 16 * 1024) throw new ExchangeError('a chunk size line over 16 KiB', 'HPE_INVALID_CHUNK_SIZE');
          this.pending = buf;
          return undefined;
        }
        const line = buf.toString('latin1', 0, eol);
        buf = buf.subarray(eol + 2);
        if (this.trailers) {
          if (line === '') return buf;
          continue;
        }
        const size = /^[0-9a-fA-F]+/.exec(line.trim());
        if (!size) throw new ExchangeError(`a bad chunk size in the answer: ${JSON.stringify(line.slice(0, 20))}`, 'HPE_INVALID_CHUNK_SIZE');
        const n = parseInt(size[0], 16);
        if (n === 0) {
          this.trailers = true;
          continue;
        }
        this.chunkLeft = n + 2;
      }
      const dataLeft = this.chunkLeft - 2;
      if (dataLeft > 0) {
        const take = Math.min(dataLeft, buf.length);
        this.addBody(buf.subarray(0, take));
        this.chunkLeft -= take;
        buf = buf.subarray(take);
      }
      // the CRLF after the chunk's data
      while (this.chunkLeft > 0 && this.chunkLeft <= 2 && buf.length > 0) {
        const expect = this.chunkLeft === 2 ? 0x0d : 0x0a;
        if (buf[0] !== expect) throw new ExchangeError('a chunk not ended by CRLF in the answer', 'HPE_INVALID_CHUNK_SIZE');
        this.chunkLeft--;
        buf = buf.subarray(1);
      }
      if (this.chunkLeft > 0) {
        if (buf.length === 0) return undefined;
        continue;
      }
      this.chunkLeft = -1;
    }
  }
}
