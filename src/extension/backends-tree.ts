import * as vscode from 'vscode';
import type { ApiKeys } from './secrets';
import { defaultBackend, FALLBACK_BACKEND, readBackends, workspaceBackendsIgnored, type BackendSetting } from './settings';

/** The Backends view: what sclab.backends configures, which is the default, and whether a key is set (never the key). */
export class BackendsTree implements vscode.TreeDataProvider<BackendSetting>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly keys: ApiKeys) {
    this.disposables = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sclab')) this.changed.fire();
      }),
      keys.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    ];
  }

  getChildren(node?: BackendSetting): BackendSetting[] {
    if (node) return [];
    const configured = readBackends();
    return configured.length > 0 ? configured : [FALLBACK_BACKEND];
  }

  async getTreeItem(b: BackendSetting): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(b.name);
    const isDefault = defaultBackend().name === b.name;
    const keyState = b.kind === 'openai' ? ((await this.keys.has(b.name)) ? 'key set' : 'no key') : undefined;
    const ignored = isDefault && (await workspaceBackendsIgnored()) ? 'workspace backend settings ignored: this workspace is not trusted' : undefined;
    item.description = [b.kind, b.model, b.baseUrl, keyState, isDefault ? 'default' : undefined, ignored].filter(Boolean).join(' · ');
    item.tooltip = `${b.name}\nkind: ${b.kind}\nmodel: ${b.model ?? '—'}\nbase URL: ${b.baseUrl ?? '—'}${keyState ? `\nAPI key: ${keyState} (in VS Code's secret storage)` : ''}${ignored ? `\n${ignored}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(b.kind === 'embedded' ? 'chip' : b.kind === 'openai' ? 'cloud' : 'plug');
    item.contextValue = `backend.${b.kind}`;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
