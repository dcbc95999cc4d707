import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import type { ViewerPage } from '../core/viewer/protocol';
import type { ViewerService } from '../core/viewer/service';
import { reportError } from './command';
import type { RunManager } from './run-manager';
import { core } from './load-core';
import { NotificationQueue } from './notification-queue';

export const RESULTS_VIEW_TYPE = 'sclab.results';

export interface ResultsTarget {
  runDir: string;
  compareRunDir?: string;
}

/** What the serializer needs after a reload; kept in the webview's state by the host (the app keeps its own too). */
interface PanelState extends ResultsTarget {
  sclabHost?: 1;
}

export interface ResultsPanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  runs: RunManager;
  /** remembers the open panels' targets across reloads (the webview state is the app's) */
  memento: vscode.Memento;
}

const MEMENTO_KEY = 'sclab.openResults';

function keyOf(t: ResultsTarget): string {
  return `${path.resolve(t.runDir)}|${t.compareRunDir ? path.resolve(t.compareRunDir) : ''}`;
}

/** One panel per run (or pair of runs), beside the active editor; runs never depend on a panel being open. */
export class ResultsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ResultsPanel>();

  constructor(private readonly deps: ResultsPanelDeps) {}

  open(target: ResultsTarget, itemId?: string, page?: ViewerPage): ResultsPanel {
    const key = keyOf(target);
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Beside, false);
      if (itemId) existing.openItem(itemId);
      if (page) existing.showPage(page);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(RESULTS_VIEW_TYPE, titleOf(target), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, this.options());
    const rp = this.adopt(panel, target, itemId);
    if (page) rp.showPage(page);
    return rp;
  }

  /** The serializer's half: a panel VS Code restored after a reload gets its run back. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const s = state as PanelState | undefined;
    const remembered = this.deps.memento.get<ResultsTarget[]>(MEMENTO_KEY, []);
    const target = s && typeof s.runDir === 'string' ? { runDir: s.runDir, ...(typeof s.compareRunDir === 'string' ? { compareRunDir: s.compareRunDir } : {}) } : remembered.find((t) => !this.panels.has(keyOf(t)));
    if (!target) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.options();
    this.adopt(panel, target);
  }

  list(): ResultsPanel[] {
    return [...this.panels.values()];
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    const root = this.deps.extensionUri;
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(root, 'dist', 'webview'), vscode.Uri.joinPath(root, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel, target: ResultsTarget, itemId?: string): ResultsPanel {
    const key = keyOf(target);
    const rp = new ResultsPanel(panel, target, this.deps, itemId);
    this.panels.set(key, rp);
    void this.remember();
    panel.onDidDispose(() => {
      this.panels.delete(key);
      rp.dispose();
      void this.remember();
    });
    return rp;
  }

  private remember(): Thenable<void> {
    return this.deps.memento.update(MEMENTO_KEY, [...this.panels.values()].map((p) => p.target));
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
  }
}

function titleOf(t: ResultsTarget): string {
  return t.compareRunDir ? `Compare ${path.basename(t.runDir)} ↔ ${path.basename(t.compareRunDir)}` : `Results: ${path.basename(t.runDir)}`;
}

/** One panel: the viewer app in a webview, its messages validated on arrival and answered by the core's service. */
export class ResultsPanel implements vscode.Disposable {
  private service: Promise<ViewerService>;
  /** typed notifications, held until the webview says it is ready */
  private readonly notifications: NotificationQueue;
  private readonly disposables: vscode.Disposable[] = [];
  /** messages the panel received, for the extension tests (never their content: only kinds) */
  readonly received: string[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly target: ResultsTarget,
    private readonly deps: ResultsPanelDeps,
    itemId?: string,
  ) {
    this.notifications = new NotificationQueue((n) => void panel.webview.postMessage(n));
    if (itemId) this.openItem(itemId);
    this.service = core().then((m) => m.createViewerService({ runDir: target.runDir, ...(target.compareRunDir ? { compareRunDir: target.compareRunDir } : {}) }));
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'icon.svg');
    this.disposables.push(panel.webview.onDidReceiveMessage((raw) => this.receive(raw).catch((err) => reportError(deps, 'results panel', err))));
    this.disposables.push(this.followRun());
    void this.render();
  }

  private async render(): Promise<void> {
    const { renderViewerHtml } = await core();
    const webview = this.panel.webview;
    const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, ...p)).toString();
    // a fresh nonce from a cryptographic source on every render: only our script runs under the CSP
    const nonce = randomBytes(18).toString('base64');
    this.notifications.reset();
    webview.html = renderViewerHtml({ scriptUri: asset('dist', 'webview', 'viewer.js'), styleUri: asset('dist', 'webview', 'viewer.css'), cspSource: webview.cspSource, nonce, state: { runDir: this.target.runDir, ...(this.target.compareRunDir ? { compareRunDir: this.target.compareRunDir } : {}), sclabHost: 1 } });
  }

  openItem(itemId: string): void {
    this.notifications.notify({ kind: 'notification', event: 'openItem', data: { itemId } });
  }

  showPage(page: ViewerPage): void {
    this.notifications.notify({ kind: 'notification', event: 'showPage', data: { page } });
  }

  /** A message from the webview: validated first; requests go to the service, commands are the host's job. */
  async receive(raw: unknown): Promise<void> {
    const { safeParseAppMessage } = await core();
    const parsed = safeParseAppMessage(raw);
    if (!parsed.ok) {
      this.deps.log.warn(`results panel: rejected a message: ${parsed.response.ok ? '' : parsed.response.error.message}`);
      void this.panel.webview.postMessage(parsed.response);
      return;
    }
    const msg = parsed.message;
    this.received.push(msg.kind === 'request' ? `request:${msg.method}` : `command:${msg.command}`);
    if (msg.kind === 'request') {
      const response = await (await this.service).respond(msg);
      if (!response.ok) this.deps.log.warn(`results panel: ${msg.method} failed: ${response.error.code}: ${response.error.message}`);
      void this.panel.webview.postMessage(response);
      return;
    }
    switch (msg.command) {
      case 'ready':
        this.notifications.markReady();
        return;
      case 'revealItem':
        await revealItem(this.target.runDir, msg.args.itemId, this.deps.log, msg.args.preserveFocus === true);
        return;
      case 'openRun':
        await vscode.commands.executeCommand('sclab.openResults');
        return;
      case 'exportRun':
        await vscode.commands.executeCommand('sclab.exportRun', this.target.runDir, msg.args.format);
        return;
    }
  }

  /** While this panel's run is active: progress notifications, and a refresh when it ends. */
  private followRun(): vscode.Disposable {
    let wasActive = this.deps.runs.isActive(this.target.runDir);
    let last = 0;
    return this.deps.runs.onDidChange(() => {
      const run = this.deps.runs.list().find((r) => r.runDir && path.resolve(r.runDir) === path.resolve(this.target.runDir));
      if (run?.progress && Date.now() - last > 500) {
        last = Date.now();
        const p = run.progress;
        this.notifications.notify({ kind: 'notification', event: 'runProgress', data: { runId: path.basename(this.target.runDir), status: 'running', planned: p.planned, recorded: p.recorded, errors: p.errors } });
      }
      if (wasActive && !run) this.refresh();
      wasActive = run !== undefined;
    });
  }

  refresh(): void {
    void this.service.then((s) => s.invalidate());
    this.notifications.notify({ kind: 'notification', event: 'runChanged', data: {} });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * Opens the dataset file at the item's line. The place comes from the run's own items.jsonl, not from the message:
 * the webview names the item, the host decides which file that is.
 */
export async function revealItem(runDir: string, itemId: string, log: vscode.LogOutputChannel, preserveFocus = false): Promise<void> {
  const { readItems, readManifest } = await core();
  const item = (await readItems(runDir)).find((i) => i.id === itemId);
  if (!item) throw new SclabError('config', `item ${itemId} is not in ${runDir}/items.jsonl`);
  const file = path.isAbsolute(item.source.file) ? item.source.file : (await readManifest(runDir)).dataset.path;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const at = new vscode.Position(Math.max(0, Math.min(doc.lineCount - 1, item.source.line - 1)), 0);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(at, at), preserveFocus });
  log.info(`revealed ${itemId} at ${file}:${item.source.line}`);
}

export function registerResultsSerializer(panels: ResultsPanels): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(RESULTS_VIEW_TYPE, {
    async deserializeWebviewPanel(panel, state) {
      panels.restore(panel, state);
    },
  });
}
