import { describe, expect, it } from 'vitest';
import { SclabError } from '../../src/core/model/errors';
import { namingBackend } from '../../src/extension/backend-factory';

const refusing = { name: 'refusing', kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9999/v1', model: 'm' };

describe('namingBackend', () => {
  it('puts the backend name and URL in front of a backend failure, keeping its code and status', () => {
    const err = namingBackend(new SclabError('auth', 'probe GET /models: the server refused the credentials (HTTP 401); check the API key', { status: 401 }), refusing) as SclabError;
    expect(err.message).toBe('backend "refusing" (http://127.0.0.1:9999/v1): probe GET /models: the server refused the credentials (HTTP 401); check the API key');
    expect(err.code).toBe('auth');
    expect(err.status).toBe(401);
  });

  it('recognises a backend failure by its code, also from another bundle\'s error class (the lazily loaded core)', () => {
    const foreign = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9999'), { code: 'network', retryable: true });
    const err = namingBackend(foreign, refusing) as SclabError;
    expect(err).toBeInstanceOf(SclabError);
    expect(err.message).toBe('backend "refusing" (http://127.0.0.1:9999/v1): connect ECONNREFUSED 127.0.0.1:9999');
    expect(err.code).toBe('network');
    expect(err.retryable).toBe(true);
  });

  it('leaves other errors alone (a dataset problem is not the backend\'s), and never names twice', () => {
    const dataset = new SclabError('dataset', 'data.jsonl:3:1: bad JSON');
    expect(namingBackend(dataset, refusing)).toBe(dataset);
    const named = new SclabError('network', 'backend "refusing" is unreachable');
    expect(namingBackend(named, refusing)).toBe(named);
    const plain = new Error('boom');
    expect(namingBackend(plain, refusing)).toBe(plain);
  });
});
