import type * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';

/** The origin a key is bound to: scheme, host and port (the default port spelled out), or null for a bad URL. */
export function originOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
    return `${u.protocol}//${u.hostname}:${port}`;
  } catch {
    return null;
  }
}

/** What the user says when a backend's key would go to another origin than the one it was stored for. */
export type OriginDecision = 'send-once' | 'rebind' | 'cancel';

/**
 * Keys in VS Code's SecretStorage only: never in settings, run folders, logs or the webview. Backend keys live
 * under the backend's name and are bound to the origin they were stored for; scorer keys live in their own
 * namespace under the scorer's apiKeyEnv name, so an experiment file naming a backend cannot get its key.
 */
export class ApiKeys {
  constructor(private readonly storage: vscode.SecretStorage) {}

  private key(backendName: string): string {
    return `sclab.apiKey.${backendName}`;
  }

  private originKey(backendName: string): string {
    return `sclab.apiKeyOrigin.${backendName}`;
  }

  private scorerKey(envName: string): string {
    return `sclab.scorerKey.${envName}`;
  }

  get(backendName: string): Thenable<string | undefined> {
    return this.storage.get(this.key(backendName));
  }

  async has(backendName: string): Promise<boolean> {
    return (await this.get(backendName)) !== undefined;
  }

  /** Stores a backend's key, bound to the origin of the URL it is for (when known). */
  async set(backendName: string, value: string, forUrl?: string): Promise<void> {
    await this.storage.store(this.key(backendName), value);
    const origin = originOf(forUrl);
    if (origin) await this.storage.store(this.originKey(backendName), origin);
    else await this.storage.delete(this.originKey(backendName));
  }

  async delete(backendName: string): Promise<void> {
    await this.storage.delete(this.key(backendName));
    await this.storage.delete(this.originKey(backendName));
  }

  /**
   * The key of a backend for a request to `url`. A key bound to another origin is sent only if the user says so
   * (`ask`); a key stored before keys were bound gets bound to the first origin it is used for. Undefined when
   * there is no key; throws when the user refuses.
   */
  async keyFor(backendName: string, url: string | undefined, ask: (boundTo: string, now: string) => Promise<OriginDecision>): Promise<string | undefined> {
    const value = await this.get(backendName);
    if (value === undefined) return undefined;
    const now = originOf(url);
    const bound = await this.storage.get(this.originKey(backendName));
    if (!now) return undefined; // never send a key to a URL we cannot even read
    if (bound === undefined) {
      await this.storage.store(this.originKey(backendName), now);
      return value;
    }
    if (bound === now) return value;
    const decision = await ask(bound, now);
    if (decision === 'cancel') throw new SclabError('config', `the API key of backend "${backendName}" was stored for ${bound}; it was not sent to ${now}`);
    if (decision === 'rebind') await this.storage.store(this.originKey(backendName), now);
    return value;
  }

  private sidecarTokenKey(backendName: string): string {
    return `sclab.sidecarToken.${backendName}`;
  }

  /** A sidecar backend's bearer token, bound to the sidecar's origin like a key (never sent to another one). */
  async sidecarTokenFor(backendName: string, sidecarUrl: string): Promise<string | undefined> {
    const stored = await this.storage.get(this.sidecarTokenKey(backendName));
    if (stored === undefined) return undefined;
    const { token, origin } = JSON.parse(stored) as { token: string; origin: string | null };
    if (origin !== originOf(sidecarUrl)) throw new SclabError('config', `the sidecar token of backend "${backendName}" was stored for ${origin ?? 'another URL'}; set it again (Set API Key…) to send it to ${originOf(sidecarUrl) ?? sidecarUrl}`);
    return token;
  }

  async setSidecarToken(backendName: string, token: string, sidecarUrl: string): Promise<void> {
    await this.storage.store(this.sidecarTokenKey(backendName), JSON.stringify({ token, origin: originOf(sidecarUrl) }));
  }

  deleteSidecarToken(backendName: string): Thenable<void> {
    return this.storage.delete(this.sidecarTokenKey(backendName));
  }

  getScorerKey(envName: string): Thenable<string | undefined> {
    return this.storage.get(this.scorerKey(envName));
  }

  setScorerKey(envName: string, value: string): Thenable<void> {
    return this.storage.store(this.scorerKey(envName), value);
  }

  deleteScorerKey(envName: string): Thenable<void> {
    return this.storage.delete(this.scorerKey(envName));
  }

  onDidChange(listener: () => void): vscode.Disposable {
    return this.storage.onDidChange((e) => {
      if (e.key.startsWith('sclab.apiKey.') || e.key.startsWith('sclab.scorerKey.')) listener();
    });
  }
}
