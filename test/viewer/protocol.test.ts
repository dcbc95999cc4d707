import { describe, expect, it } from 'vitest';
import { parseAppMessage, parseHostMessage, requestKey, safeParseAppMessage, MAX_PAGE } from '../../src/core/viewer/protocol';
import { SclabError } from '../../src/core/model/errors';

describe('viewer protocol', () => {
  it('accepts well-formed requests and fills defaults', () => {
    const m = parseAppMessage({ kind: 'request', id: 3, method: 'samples', params: { offset: 0, limit: 50 } });
    expect(m).toEqual({ kind: 'request', id: 3, method: 'samples', params: { offset: 0, limit: 50, filter: {}, sort: { key: 'item', dir: 'asc' } } });
    expect(parseAppMessage({ kind: 'request', id: 1, method: 'overview', params: {} })).toMatchObject({ method: 'overview' });
    expect(parseAppMessage({ kind: 'command', command: 'revealItem', args: { itemId: 'x', file: 'a.jsonl', line: 3 } })).toMatchObject({ command: 'revealItem' });
  });

  it.each([
    ['not an object', 'hello', /kind must be/],
    ['null', null, /kind must be/],
    ['unknown kind', { kind: 'evil' }, /kind must be/],
    ['unknown method', { kind: 'request', id: 1, method: 'deleteRun', params: {} }, /method/],
    ['id zero', { kind: 'request', id: 0, method: 'overview', params: {} }, /id/],
    ['fractional id', { kind: 'request', id: 1.5, method: 'overview', params: {} }, /id/],
    ['string id', { kind: 'request', id: '1', method: 'overview', params: {} }, /id/],
    ['page too large', { kind: 'request', id: 1, method: 'samples', params: { offset: 0, limit: MAX_PAGE + 1 } }, /params.limit/],
    ['negative offset', { kind: 'request', id: 1, method: 'samples', params: { offset: -1, limit: 10 } }, /params.offset/],
    ['extra params', { kind: 'request', id: 1, method: 'overview', params: { all: true } }, /params/],
    ['bad sort key', { kind: 'request', id: 1, method: 'samples', params: { offset: 0, limit: 1, sort: { key: '__proto__', dir: 'asc' } } }, /params.sort.key/],
    ['extra envelope field', { kind: 'request', id: 1, method: 'overview', params: {}, eval: 'x' }, /eval|Unrecognized/i],
    ['empty item id', { kind: 'request', id: 1, method: 'item', params: { itemId: '' } }, /params.itemId/],
    ['reveal without line', { kind: 'command', command: 'revealItem', args: { itemId: 'x', file: 'f' } }, /args.line/],
    ['unknown command', { kind: 'command', command: 'runShell', args: {} }, /command/],
    ['export format', { kind: 'command', command: 'exportRun', args: { format: 'exe' } }, /args.format/],
  ])('rejects %s', (_name, raw, msg) => {
    let err: unknown;
    try {
      parseAppMessage(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SclabError);
    expect((err as SclabError).code).toBe('bad_request');
    expect((err as Error).message).toMatch(msg);
  });

  it('turns a bad message into an error response with its id where it has one', () => {
    const r = safeParseAppMessage({ kind: 'request', id: 7, method: 'nope', params: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.response).toMatchObject({ kind: 'response', id: 7, ok: false, error: { code: 'bad_request' } });
    const r0 = safeParseAppMessage({ kind: 'request', id: -2 });
    if (!r0.ok) expect(r0.response.id).toBe(0);
  });

  it('validates host messages on the app side', () => {
    expect(parseHostMessage({ kind: 'response', id: 2, ok: true, result: { a: 1 } })).toMatchObject({ ok: true });
    expect(parseHostMessage({ kind: 'response', id: 2, ok: false, error: { code: 'io', message: 'x' } })).toMatchObject({ ok: false });
    expect(parseHostMessage({ kind: 'notification', event: 'openItem', data: { itemId: 'q1' } })).toMatchObject({ event: 'openItem' });
    expect(() => parseHostMessage({ kind: 'response', id: 2, ok: true })).toThrow(/result/);
    expect(() => parseHostMessage({ kind: 'response', id: 2, ok: false, error: { message: 'x' } })).toThrow(/error.code/);
    expect(() => parseHostMessage({ kind: 'notification', event: 'openItem', data: {} })).toThrow(/data.itemId/);
    expect(() => parseHostMessage({ kind: 'notification', event: 'exec', data: {} })).toThrow(/event/);
    expect(() => parseHostMessage({ kind: 'request', id: 1, method: 'overview', params: {} })).toThrow(/kind must be/);
  });

  it('gives one key per meaning of a request (defaults filled, key order ignored)', () => {
    expect(requestKey('samples', { offset: 0, limit: 100 })).toBe(requestKey('samples', { limit: 100, offset: 0, sort: { dir: 'asc', key: 'item' }, filter: {} }));
    expect(requestKey('samples', { offset: 0, limit: 100 })).not.toBe(requestKey('samples', { offset: 100, limit: 100 }));
    expect(requestKey('overview', {})).toBe('overview:{}');
  });
});
