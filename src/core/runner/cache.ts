import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ChatMessage, Decoding } from '../model/chat';
import type { ChatResult, OptionScoreResult, Steering } from '../backends/backend';

/** Everything that determines a response; two requests with the same key are the same request. */
export interface CacheKeyParts {
  backend: string;
  model: string;
  baseUrl?: string;
  /** how the backend sends the prefill, or the chat template it renders with: it changes the answer */
  mode?: string;
  messages: ChatMessage[];
  prefill: string;
  decoding: Decoding;
  continuations?: string[];
  /** a steered round's intervention (directions included): a steered answer never stands in for another */
  steer?: Steering;
}

export interface CachedResponse {
  chat: ChatResult;
  options?: OptionScoreResult;
}

/** Stable JSON: object keys sorted, so the key does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(canonical({ v: 1, ...parts })).digest('hex');
}

/** Sampled answers without a seed are draws, not facts: reusing one would hide the variance a user asked for. */
export function isCacheable(decoding: Decoding): boolean {
  return decoding.temperature === 0 || decoding.seed !== undefined;
}

/** A content-addressed response cache: one small JSON file per request, written atomically. */
export class ResponseCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file(key), 'utf8')) as CachedResponse;
      return typeof parsed?.chat?.text === 'string' ? parsed : undefined;
    } catch {
      return undefined; // missing or unreadable entries are misses, never errors
    }
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(value));
    await fs.rename(tmp, file);
  }
}
