// The extension's key store over a stand-in for VS Code's SecretStorage (an in-memory map with its interface):
// scorer keys have their own namespace, and a backend's key is bound to the origin it was stored for.
import { describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { ApiKeys, originOf, type OriginDecision } from '../../src/extension/secrets';

function memoryStorage(): vscode.SecretStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (k: string) => data.get(k),
    store: async (k: string, v: string) => void data.set(k, v),
    delete: async (k: string) => void data.delete(k),
    keys: async () => [...data.keys()],
    onDidChange: () => ({ dispose: () => undefined }),
  } as unknown as vscode.SecretStorage & { data: Map<string, string> };
}

describe('extension key store', () => {
  it('origins: scheme, host and port with the default port spelled out', () => {
    expect(originOf('https://api.example.com/v1?x=1')).toBe('https://api.example.com:443');
    expect(originOf('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000');
    expect(originOf('not a url')).toBeNull();
  });

  it('a scorer naming a backend (apiKeyEnv: my-openai) does not get that backend\'s key', async () => {
    const keys = new ApiKeys(memoryStorage());
    await keys.set('my-openai', 'sk-backend', 'https://api.openai.com/v1');
    expect(await keys.getScorerKey('my-openai')).toBeUndefined();
    await keys.setScorerKey('PERSPECTIVE_API_KEY', 'persp');
    expect(await keys.getScorerKey('PERSPECTIVE_API_KEY')).toBe('persp');
    expect(await keys.get('PERSPECTIVE_API_KEY')).toBeUndefined();
  });

  it('sends a backend key to its own origin; another origin is asked about, and refusing sends nothing', async () => {
    const keys = new ApiKeys(memoryStorage());
    await keys.set('prod', 'sk-prod', 'https://api.example.com/v1');
    const asked: string[] = [];
    const answer = (d: OriginDecision) => async (bound: string, now: string) => {
      asked.push(`${bound} -> ${now}`);
      return d;
    };
    expect(await keys.keyFor('prod', 'https://api.example.com/v2', answer('cancel'))).toBe('sk-prod');
    expect(asked).toEqual([]);
    await expect(keys.keyFor('prod', 'http://evil.example:8080/v1', answer('cancel'))).rejects.toMatchObject({ code: 'config', message: expect.stringMatching(/stored for https:\/\/api\.example\.com:443; it was not sent to http:\/\/evil\.example:8080/) });
    expect(await keys.keyFor('prod', 'http://evil.example:8080/v1', answer('send-once'))).toBe('sk-prod');
    await expect(keys.keyFor('prod', 'http://evil.example:8080/v1', answer('cancel'))).rejects.toThrow(); // once is once
    expect(await keys.keyFor('prod', 'http://new.example/v1', answer('rebind'))).toBe('sk-prod');
    expect(await keys.keyFor('prod', 'http://new.example/v1', answer('cancel'))).toBe('sk-prod'); // rebound
    expect(asked).toHaveLength(4);
  });

  it('a key stored before binding existed is bound to the first origin it is used for', async () => {
    const storage = memoryStorage();
    storage.data.set('sclab.apiKey.old', 'sk-old');
    const keys = new ApiKeys(storage);
    expect(await keys.keyFor('old', 'http://127.0.0.1:8000/v1', async () => 'cancel')).toBe('sk-old');
    await expect(keys.keyFor('old', 'http://127.0.0.1:9999/v1', async () => 'cancel')).rejects.toThrow(/stored for http:\/\/127\.0\.0\.1:8000/);
  });

  it('a sidecar token goes only to the sidecar origin it was stored for, and is not a backend key', async () => {
    const keys = new ApiKeys(memoryStorage());
    expect(await keys.sidecarTokenFor('gpu', 'http://gpu-box:8765')).toBeUndefined();
    await keys.setSidecarToken('gpu', 'tok-1', 'http://gpu-box:8765/');
    expect(await keys.sidecarTokenFor('gpu', 'http://gpu-box:8765')).toBe('tok-1');
    expect(await keys.get('gpu')).toBeUndefined();
    await expect(keys.sidecarTokenFor('gpu', 'http://elsewhere:8765')).rejects.toThrow(/stored for http:\/\/gpu-box:8765; set it again/);
    await keys.deleteSidecarToken('gpu');
    expect(await keys.sidecarTokenFor('gpu', 'http://gpu-box:8765')).toBeUndefined();
  });
});
