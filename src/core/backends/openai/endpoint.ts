import { SclabError } from '../../model/errors';

export interface Endpoint {
  /** what requests go to: no userinfo, no query (the query travels as defaultQuery) */
  requestBaseUrl: string;
  defaultQuery: Record<string, string> | undefined;
  /** what descriptions and messages may show: no userinfo, no secret-looking query parameters */
  publicUrl: string;
  /** values that must never appear in a message: userinfo and secret-looking query values */
  secrets: string[];
  notes: string[];
}

const SECRET_PARAM = /key|token|secret|sig|auth|pass|credential|code/i;

/** Splits a user-given base URL into what is sent and what may be shown. */
export function parseEndpoint(baseUrl: string): Endpoint {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new SclabError('config', `backend base URL is not a valid URL: "${stripUserinfoText(baseUrl)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SclabError('config', `backend base URL must start with http:// or https:// (got ${url.protocol})`);
  }
  const secrets: string[] = [];
  const notes: string[] = [];
  if (url.username || url.password) {
    // fetch refuses URLs with credentials, and they must not reach the run folder either
    for (const v of [url.username, url.password, decodeSafe(url.username), decodeSafe(url.password)]) if (v) secrets.push(v);
    notes.push('credentials embedded in the base URL were removed; pass the API key separately');
    url.username = '';
    url.password = '';
  }
  const query: Record<string, string> = {};
  const publicParams = new URLSearchParams();
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    if (SECRET_PARAM.test(k)) {
      if (v) secrets.push(v);
    } else {
      publicParams.append(k, v);
    }
  }
  url.search = '';
  url.hash = '';
  const requestBaseUrl = url.toString().replace(/\/+$/, '');
  const shown = publicParams.toString();
  return {
    requestBaseUrl,
    defaultQuery: Object.keys(query).length > 0 ? query : undefined,
    publicUrl: shown ? `${requestBaseUrl}?${shown}` : requestBaseUrl,
    secrets,
    notes,
  };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function stripUserinfoText(s: string): string {
  return s.replace(/\/\/[^/@]*@/, '//');
}
