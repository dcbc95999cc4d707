import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/core/backends/openai/endpoint';
import { renderPlainTranscript } from '../../src/core/backends/openai';

describe('base URL handling', () => {
  it('drops a trailing slash and keeps harmless query parameters in what is shown', () => {
    const e = parseEndpoint('http://localhost:8000/v1/?api-version=2024-01-01');
    expect(e.requestBaseUrl).toBe('http://localhost:8000/v1');
    expect(e.defaultQuery).toEqual({ 'api-version': '2024-01-01' });
    expect(e.publicUrl).toBe('http://localhost:8000/v1?api-version=2024-01-01');
    expect(e.secrets).toEqual([]);
  });

  it('removes userinfo and secret-looking query values from what is shown, and remembers them as secrets', () => {
    const e = parseEndpoint('https://bob:p%40ss@example.com/v1?key=abc123&access_token=tok456&region=eu');
    expect(e.publicUrl).toBe('https://example.com/v1?region=eu');
    expect(e.requestBaseUrl).toBe('https://example.com/v1');
    // the query still travels with requests: a proxy may need it
    expect(e.defaultQuery).toEqual({ key: 'abc123', access_token: 'tok456', region: 'eu' });
    expect(e.secrets).toEqual(expect.arrayContaining(['bob', 'p@ss', 'abc123', 'tok456']));
    expect(e.notes[0]).toMatch(/credentials embedded/);
  });

  it('rejects what is not an http(s) URL without echoing credentials', () => {
    expect(() => parseEndpoint('localhost:8000')).toThrow(/http/);
    expect(() => parseEndpoint('http//user:secret@@ bad')).toThrow(/not a valid URL/);
    try {
      parseEndpoint('http//user:secret@@ bad');
    } catch (e) {
      expect(String(e)).not.toContain('secret');
    }
  });
});

describe('plain transcript for option scoring', () => {
  it('renders role: content blocks, then the assistant prefill', () => {
    const text = renderPlainTranscript(
      [
        { role: 'system', content: 'Be fair.' },
        { role: 'user', content: 'Q?' },
      ],
      'The answer is',
    );
    expect(text).toBe('system: Be fair.\n\nuser: Q?\n\nassistant: The answer is');
    expect(renderPlainTranscript([{ role: 'user', content: 'Q?' }], '')).toBe('user: Q?\n\nassistant:');
  });
});
