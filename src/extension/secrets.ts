import type * as vscode from 'vscode';

/** API keys per backend name, in VS Code's SecretStorage only: never in settings, run folders, logs or the webview. */
export class ApiKeys {
  constructor(private readonly storage: vscode.SecretStorage) {}

  private key(backendName: string): string {
    return `sclab.apiKey.${backendName}`;
  }

  get(backendName: string): Thenable<string | undefined> {
    return this.storage.get(this.key(backendName));
  }

  async has(backendName: string): Promise<boolean> {
    return (await this.get(backendName)) !== undefined;
  }

  set(backendName: string, value: string): Thenable<void> {
    return this.storage.store(this.key(backendName), value);
  }

  delete(backendName: string): Thenable<void> {
    return this.storage.delete(this.key(backendName));
  }

  onDidChange(listener: () => void): vscode.Disposable {
    return this.storage.onDidChange((e) => {
      if (e.key.startsWith('sclab.apiKey.')) listener();
    });
  }
}
