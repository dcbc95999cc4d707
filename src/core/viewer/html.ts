// Browser-safe: the HTML pages that load the viewer app, with a strict Content-Security-Policy. Only our own script
// runs (a nonce from a cryptographic source, passed in by the host); data travels as JSON inside a non-executable
// <script type="application/json">, escaped so that no dataset text can close the tag.

export interface ViewerHtmlOptions {
  /** where the app's bundle is (a webview URI in VS Code, /viewer.js for `sclab view`) */
  scriptUri: string;
  styleUri: string;
  /** the CSP source of the host's assets (webview.cspSource in VS Code, 'self' for `sclab view`) */
  cspSource: string;
  /** base64 or hex from crypto.getRandomValues / randomBytes; at least 16 bytes of entropy */
  nonce: string;
  /** where the app may send requests with fetch (`sclab view`: 'self'); none in VS Code */
  connectSrc?: string;
  /** handed to the app on start (e.g. which run the panel shows); never a secret */
  state?: Record<string, unknown>;
  title?: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,}$/;

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that is safe inside <script type="application/json">: every "<" (so no "</script>" or "<!--"), ">" and "&"
 * becomes a \u escape, as do U+2028/U+2029; JSON.parse gives back the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function checkNonce(nonce: string): void {
  if (!NONCE.test(nonce)) throw new Error('renderViewerHtml: the nonce must be at least 16 base64/hex characters from a cryptographic source');
}

export function viewerCsp(o: { cspSource: string; nonce: string; connectSrc?: string; inlineStyle?: boolean }): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    o.inlineStyle ? `style-src 'nonce-${o.nonce}'` : `style-src ${o.cspSource}`,
    `img-src ${o.inlineStyle ? '' : `${o.cspSource} `}data:`,
    `font-src ${o.inlineStyle ? 'data:' : o.cspSource}`,
    ...(o.connectSrc ? [`connect-src ${o.connectSrc}`] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const BODY = `<body>
<div id="app" role="main"><p class="loading">Loading results…</p></div>
<noscript>The results viewer needs JavaScript.</noscript>
`;

/** The start of both viewer pages, up to the title: the CSP decides what the page may load and run. */
function pageHead(csp: string, title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>`;
}

/** The page of the VS Code panel and of `sclab view`: the app and its stylesheet loaded from the host's assets. */
export function renderViewerHtml(o: ViewerHtmlOptions): string {
  checkNonce(o.nonce);
  return `${pageHead(viewerCsp(o), o.title ?? 'Self-Correction Lab results')}
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<script type="application/json" id="sclab-boot">${jsonForScript({ state: o.state ?? {} })}</script>
</head>
${BODY}<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

export interface StaticHtmlOptions {
  /** the app bundle's source, inlined */
  script: string;
  style: string;
  nonce: string;
  /** requestKey → result: the answers the page can give without a host */
  answers: Record<string, unknown>;
  title: string;
  /** run facts for the page's header (the app also shows them from the overview) */
  state?: Record<string, unknown>;
}

/** Escapes an inlined script or stylesheet so that it cannot end its element early. */
export function inlineSafe(code: string, tag: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

/** One self-contained HTML file: the app, its stylesheet and the embedded answers, usable offline. */
export function renderStaticHtml(o: StaticHtmlOptions): string {
  checkNonce(o.nonce);
  const csp = viewerCsp({ cspSource: "'none'", nonce: o.nonce, inlineStyle: true });
  return `${pageHead(csp, o.title)}
<style nonce="${escapeHtml(o.nonce)}">${inlineSafe(o.style, 'style')}</style>
<script type="application/json" id="sclab-boot">${jsonForScript({ state: o.state ?? {}, static: true })}</script>
<script type="application/json" id="sclab-static-answers">${jsonForScript(o.answers)}</script>
</head>
${BODY}<script nonce="${escapeHtml(o.nonce)}">${inlineSafe(o.script, 'script')}</script>
</body>
</html>
`;
}
