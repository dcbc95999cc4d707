import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunEntry } from './run-folders';
import { listRuns } from './run-folders';
import type { RunManager } from './run-manager';
import { runsFolder } from './settings';

type Node = { type: 'run'; entry: RunEntry } | { type: 'detail'; label: string; description: string; icon: string };

const STATUS_ICON: Record<string, string> = { completed: 'pass', running: 'sync~spin', cancelled: 'circle-slash', failed: 'error' };

/** The Runs view: every run folder of the workspace with its status, progress, model, conditions and rounds. */
export class RunsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries: RunEntry[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly runs: RunManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // progress events come per record: redraw at most a few times a second
    this.disposables.push(runs.onDidChange(() => this.refreshSoon()));
  }

  refresh(): void {
    this.changed.fire();
  }

  refreshSoon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 300);
  }

  /** The runs as last listed (the tests and the resume offer read them). */
  async list(): Promise<RunEntry[]> {
    const dir = runsFolder();
    this.entries = dir ? await listRuns(dir, (d) => this.runs.isActive(d), (d, err) => this.log.warn(`${d}: ${err instanceof Error ? err.message : String(err)}`)) : [];
    return this.entries;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return (await this.list()).map((entry) => ({ type: 'run', entry }));
    if (node.type !== 'run') return [];
    const m = node.entry.manifest;
    const conditions = m.experiment.conditions;
    const detail = (label: string, description: string, icon: string): Node => ({ type: 'detail', label, description, icon });
    return [
      detail('model', `${m.backend.model} (${m.backend.kind})`, 'server'),
      detail('dataset', `${path.basename(m.dataset.path)} · ${m.dataset.items} items`, 'file'),
      detail('conditions', conditions.map((c) => c.name).join(', '), 'list-tree'),
      detail('rounds', conditions.map((c) => `${c.name} ${c.rounds}`).join(', '), 'debug-step-over'),
      detail('records', `${this.counts(node.entry).recorded}/${m.counts.planned} · ${m.counts.errors} errors · ${m.counts.cached} cached`, 'database'),
      ...(m.failure ? [detail('failure', `${m.failure.code}: ${m.failure.message}`, 'warning')] : []),
    ];
  }

  private counts(e: RunEntry): { recorded: number } {
    const live = this.runs.list().find((r) => r.runDir && path.resolve(r.runDir) === path.resolve(e.runDir));
    return { recorded: live?.progress?.recorded ?? e.manifest.counts.recorded };
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'detail') {
      const item = new vscode.TreeItem(node.label);
      item.description = node.description;
      item.tooltip = `${node.label}: ${node.description}`;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const { entry } = node;
    const m = entry.manifest;
    const active = this.runs.isActive(entry.runDir);
    const status = active ? 'running' : entry.interrupted ? 'interrupted' : m.status;
    const recorded = this.counts(entry).recorded;
    const pct = m.counts.planned ? Math.floor((100 * recorded) / m.counts.planned) : 0;
    const item = new vscode.TreeItem(m.experiment.name === 'experiment' ? path.basename(m.dataset.path) : m.experiment.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = entry.runDir;
    item.description = `${shortTime(m.createdAt)} · ${status} · ${status === 'completed' ? `${recorded} records` : `${pct}%`} · ${m.backend.model}`;
    item.tooltip = new vscode.MarkdownString(
      [`**${m.id}**`, `status: ${status}`, `records: ${recorded}/${m.counts.planned} (${m.counts.errors} errors)`, `model: ${m.backend.model} (${m.backend.kind})`, `created: ${m.createdAt}`].join('  \n'),
    );
    item.iconPath = new vscode.ThemeIcon(active ? 'sync~spin' : entry.interrupted ? 'debug-pause' : (STATUS_ICON[m.status] ?? 'circle-outline'));
    item.contextValue = `run.${m.status}${active ? '.active' : ''}${entry.resumable ? '.resumable' : ''}`;
    item.command = { command: 'sclab.openResults', title: 'Open Results', arguments: [entry.runDir] };
    return item;
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.changed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** "14:05" today, "3 Nov 14:05" before: enough to tell the runs of one dataset apart. */
function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hm = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? hm : `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${hm}`;
}

/** Tree arguments arrive as nodes, palette calls as nothing, programmatic calls as a path: all become a run folder. */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const node = arg as { type?: string; entry?: RunEntry } | undefined;
  return node?.type === 'run' ? node.entry?.runDir : undefined;
}
