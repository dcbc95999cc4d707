// Small node:http helpers for the sidecar server: bounded JSON bodies, JSON answers, bearer-token checks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { WireError } from './wire-error';

/** an oversized body is still read (and dropped) up to this size, so the client hears the 413 instead of a reset */
const DISCARD_CAP = 256 * 1024 * 1024;

/** Reads the body as JSON, refusing more than maxBytes (413) without keeping what is over the limit. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (n: number, exact: boolean): WireError =>
    new WireError('too_large', `the body is ${exact ? '' : 'over '}${n} bytes; this server accepts at most ${maxBytes}`);
  if (Number.isFinite(declared) && declared > DISCARD_CAP) throw tooLarge(declared, true);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > DISCARD_CAP) throw tooLarge(size, false);
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw tooLarge(size, true);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new WireError('bad_request', 'the body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WireError('bad_request', `the body is not JSON: ${(e as Error).message}`);
  }
}

/** zod-validates a request body; the first issue becomes a 400 naming the field */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : 'body';
  throw new WireError('bad_request', `${what}: ${field}: ${issue.message}`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, e: WireError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // `type` too, so OpenAI clients read our errors as they read OpenAI's
  sendJson(res, e.status, { error: { code: e.code, message: e.message, type: e.code } });
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>` (digests first, so lengths leak nothing either). */
export function checkBearer(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m || !timingSafeEqual(digest(m[1]!.trim()), digest(token))) {
    throw new WireError('unauthorized', m ? 'the bearer token is not the one this server was started with' : 'this server needs Authorization: Bearer <token>');
  }
}
