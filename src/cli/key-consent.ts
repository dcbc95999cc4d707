// Which secret goes to which server is the user's choice, never a file's. An experiment file (or a run folder's
// manifest: both may come from a cloned repository) may name an environment variable as a backend's or scorer's
// key only when the user consents on the command line (--allow-key-env NAME, or the same name as --api-key-env);
// otherwise the run stops before any request, saying which variable would go to which host. A default key
// (OPENAI_API_KEY, PERSPECTIVE_API_KEY) sent to a URL that came from the file is announced, host named.
import { SclabError } from '../core/model/errors';
import type { Experiment } from '../core/model/experiment';
import { DEFAULT_KEY_ENV } from '../core/scorers/create';
import { MODERATION_DEFAULT_URL } from '../core/scorers/openai-moderation';
import { PERSPECTIVE_DEFAULT_URL } from '../core/scorers/perspective';
import { DEFAULT_API_KEY_ENV } from './backend-from-flags';

export interface KeyConsentFlags {
  apiKeyEnv?: string;
  baseUrl?: string;
  allowKeyEnv?: string[];
}

function hostOf(url: string | undefined): string {
  if (!url) return '(no URL)';
  try {
    return new URL(url).host || url;
  } catch {
    return '(an unparseable URL)';
  }
}

interface KeyUse {
  /** who uses the key, e.g. "the backend", "scorer toxicity" */
  who: string;
  /** the variable named by the file, or undefined when the default applies */
  namedByFile: string | undefined;
  defaultName: string | undefined;
  /** where requests go, and whether that URL came from the file */
  url: string | undefined;
  urlFromFile: boolean;
}

function uses(exp: Experiment, flags: KeyConsentFlags, env: NodeJS.ProcessEnv): KeyUse[] {
  const out: KeyUse[] = [];
  const b = exp.backend;
  if (b && (b.kind === 'openai' || b.kind === 'sidecar')) {
    const fileUrl = flags.baseUrl === undefined ? b.baseUrl : undefined;
    out.push({
      who: 'the backend',
      namedByFile: flags.apiKeyEnv === undefined && b.apiKeyEnv !== DEFAULT_API_KEY_ENV ? b.apiKeyEnv : undefined,
      defaultName: DEFAULT_API_KEY_ENV,
      url: flags.baseUrl ?? b.baseUrl ?? env.OPENAI_BASE_URL,
      urlFromFile: fileUrl !== undefined,
    });
  }
  for (const s of exp.scorers ?? []) {
    if (s.kind === 'offline') continue;
    const fallback = s.kind === 'http' ? undefined : DEFAULT_KEY_ENV[s.kind];
    const defaultUrl = s.kind === 'perspective' ? PERSPECTIVE_DEFAULT_URL : s.kind === 'openai-moderation' ? MODERATION_DEFAULT_URL : undefined;
    out.push({ who: `scorer "${s.name}"`, namedByFile: s.apiKeyEnv !== fallback ? s.apiKeyEnv : undefined, defaultName: fallback, url: s.url ?? defaultUrl, urlFromFile: s.url !== undefined });
  }
  return out;
}

/**
 * Throws 'config' when the experiment names a key variable the user did not allow; returns the announcements to
 * print (a default key going to a host the file chose) before the first request.
 */
export function checkKeyConsent(exp: Experiment, flags: KeyConsentFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  const allowed = new Set([...(flags.allowKeyEnv ?? []), ...(flags.apiKeyEnv ? [flags.apiKeyEnv] : [])]);
  const notes: string[] = [];
  for (const u of uses(exp, flags, env)) {
    if (u.namedByFile !== undefined && !allowed.has(u.namedByFile)) {
      throw new SclabError(
        'config',
        `the experiment asks to send the environment variable ${u.namedByFile} as the API key of ${u.who} to ${hostOf(u.url)}; ` +
          `if that is what you want, run again with --allow-key-env ${u.namedByFile}`,
      );
    }
    const name = u.namedByFile ?? u.defaultName;
    if (u.namedByFile === undefined && name && u.urlFromFile && env[name]) {
      notes.push(`${u.who} sends ${name} to ${hostOf(u.url)}, a URL from the experiment file (pass --base-url or unset ${name} if that is not your server)`);
    }
  }
  return notes;
}
