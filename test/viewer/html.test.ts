import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, inlineSafe, jsonForScript, renderStaticHtml, renderViewerHtml } from '../../src/core/viewer/html';
import { HOSTILE } from './syntheticRun';

const NONCE = 'AbCdEfGhIjKlMnOpQrStUv==';

/** The text inside <script type="application/json" id="ID">…</script>, as the browser's tokenizer would cut it. */
function jsonScript(html: string, id: string): string {
  const open = `<script type="application/json" id="${id}">`;
  const start = html.indexOf(open) + open.length;
  return html.slice(start, html.indexOf('</script', start));
}

describe('viewer HTML', () => {
  it('sets a strict CSP with the nonce on the one script', () => {
    const html = renderViewerHtml({ scriptUri: 'https://file+.vscode-resource/viewer.js', styleUri: 'https://file+.vscode-resource/viewer.css', cspSource: 'https://*.vscode-cdn.net', nonce: NONCE });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'nonce-${NONCE}'`);
    expect(csp).toContain('style-src https://*.vscode-cdn.net');
    expect(csp).toContain('img-src https://*.vscode-cdn.net data:');
    expect(csp).toContain('font-src https://*.vscode-cdn.net');
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(html.match(/<script nonce=/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${NONCE}" src="https://file+.vscode-resource/viewer.js">`);
  });

  it('refuses a weak nonce', () => {
    expect(() => renderViewerHtml({ scriptUri: 'a', styleUri: 'b', cspSource: 'c', nonce: '123' })).toThrow(/nonce/);
    expect(() => renderViewerHtml({ scriptUri: 'a', styleUri: 'b', cspSource: 'c', nonce: `${NONCE}" onload="x` })).toThrow(/nonce/);
  });

  it('keeps hostile state inside its JSON script and gives it back intact', () => {
    const state = { runDir: `/runs/</script><script>alert(1)</script>`, note: HOSTILE.join(' '), sep: '\u2028\u2029' };
    const html = renderViewerHtml({ scriptUri: 'v.js', styleUri: 'v.css', cspSource: "'self'", nonce: NONCE, state });
    const inside = jsonScript(html, 'sclab-boot');
    expect(inside).not.toMatch(/[<>]/);
    expect(JSON.parse(inside)).toEqual({ state });
  });

  it('escapes attributes and text', () => {
    expect(escapeHtml(`"><img src=x onerror=alert(1)>'`)).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;');
    const html = renderViewerHtml({ scriptUri: 'v.js"><script>alert(1)</script>', styleUri: 'v.css', cspSource: "'self'", nonce: NONCE, title: '</title><script>x</script>' });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('</title><script>');
  });

  it('builds one static file whose answers and inlined code cannot break out of their elements', () => {
    const answers = { 'overview:{}': { name: HOSTILE[0], more: '<!-- </script> --> </style>' } };
    const html = renderStaticHtml({ script: 'var s = "</script><b>"; var t = "</SCRIPT >";', style: 'body{} </style><script>alert(1)</script>', nonce: NONCE, answers, title: '<T>' });
    // raw-text elements end only at their own end tag: exactly one style and three scripts end, where they should
    const styleEnd = html.indexOf('</style>');
    expect(html.slice(styleEnd).match(/<\/script/gi)).toHaveLength(3);
    expect(html.slice(0, styleEnd)).toContain('<\\/style><script>alert(1)'); // inert text inside the style element
    expect(html.indexOf('</style>')).toBeLessThan(html.indexOf('<script type="application/json" id="sclab-boot">'));
    expect(html.slice(html.lastIndexOf('<script nonce='))).toMatch(/^<script nonce="[^"]+">var s = "<\\\/script><b>"; var t = "<\\\/SCRIPT >";<\/script>/);
    expect(html.match(/<\/style/gi)).toHaveLength(1);
    expect(JSON.parse(jsonScript(html, 'sclab-static-answers'))).toEqual(answers);
    const csp = /content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toContain(`script-src 'nonce-${NONCE}'`);
    expect(csp).toContain(`style-src 'nonce-${NONCE}'`);
    expect(csp).not.toMatch(/unsafe/);
    expect(inlineSafe('a</script>b', 'script')).toBe('a<\\/script>b');
  });

  it('jsonForScript round-trips every character it escapes', () => {
    const v = { s: '<>&\u2028\u2029</script><!--', n: [1, null] };
    expect(jsonForScript(v)).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(jsonForScript(v))).toEqual(v);
  });
});

describe('webview source', () => {
  // the app renders dataset text and model output; the only safe way is text nodes, so no HTML sink may appear
  it('never assigns HTML', () => {
    const root = path.resolve(__dirname, '../../webview');
    const files = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) {
      const text = readFileSync(path.join(root, f), 'utf8').replace(/\/\/.*$/gm, '');
      expect(text, f).not.toMatch(/\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(|srcdoc|createContextualFragment|DOMParser/);
    }
  });
});
