import * as path from 'node:path';
import * as vscode from 'vscode';

export type BackendKind = 'openai' | 'embedded' | 'sidecar';

/** One entry of `sclab.backends`: never a key (keys live in SecretStorage under the name). */
export interface BackendSetting {
  name: string;
  kind: BackendKind;
  baseUrl?: string;
  /** sidecar backends: the sidecar's root URL (baseUrl is then the server that generates) */
  sidecarUrl?: string;
  model?: string;
  /** requests / tokens per minute the server allows */
  maxRpm?: number;
  maxTpm?: number;
}

/** Used when no backend is configured: the embedded engine with the pinned tiny model. */
export const FALLBACK_BACKEND: BackendSetting = { name: 'embedded (stories260K)', kind: 'embedded', model: 'stories260K' };

const KINDS: readonly string[] = ['openai', 'embedded', 'sidecar'];

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('sclab');
}

/**
 * The configured backends. `sclab.backends` is a restricted configuration: in an untrusted workspace VS Code
 * hides its workspace value, so a cloned repository cannot point a user's key at its own server.
 */
export function readBackends(): BackendSetting[] {
  return parseBackends(section().get<unknown[]>('backends', []));
}

/** The user-settings list only: what Configure Backend… edits (workspace values are never copied into it). */
export function readUserBackends(): BackendSetting[] {
  return parseBackends(section().inspect<unknown[]>('backends')?.globalValue ?? []);
}

const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function parseBackends(raw: unknown): BackendSetting[] {
  const out: BackendSetting[] = [];
  for (const b of Array.isArray(raw) ? raw : []) {
    const o = b as Record<string, unknown> | null;
    if (!o || typeof o.name !== 'string' || o.name.trim() === '' || typeof o.kind !== 'string' || !KINDS.includes(o.kind)) continue;
    out.push({
      name: o.name,
      kind: o.kind as BackendKind,
      ...(typeof o.baseUrl === 'string' && o.baseUrl !== '' ? { baseUrl: o.baseUrl } : {}),
      ...(typeof o.sidecarUrl === 'string' && o.sidecarUrl !== '' ? { sidecarUrl: o.sidecarUrl } : {}),
      ...(typeof o.model === 'string' && o.model !== '' ? { model: o.model } : {}),
      ...(isPositive(o.maxRpm) ? { maxRpm: o.maxRpm } : {}),
      ...(isPositive(o.maxTpm) ? { maxTpm: o.maxTpm } : {}),
    });
  }
  return out;
}

/** True when a workspace or folder value of sclab.backends hides the user-settings list (trusted workspaces only). */
/**
 * Whether an untrusted workspace sets backends that VS Code ignores, so the Backends view can say so. The API hides
 * restricted workspace values entirely (inspect() too), so the workspace's settings files are read as text.
 */
export async function workspaceBackendsIgnored(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return false;
  const files = [...(vscode.workspace.workspaceFolders ?? []).map((f) => vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json')), ...(vscode.workspace.workspaceFile ? [vscode.workspace.workspaceFile] : [])];
  for (const file of files) {
    const text = await vscode.workspace.fs.readFile(file).then((b) => new TextDecoder().decode(b), () => '');
    if (/"sclab\.(backends|defaultBackend)"\s*:/.test(text)) return true;
  }
  return false;
}

export function workspaceShadowsBackends(): boolean {
  const i = section().inspect<unknown[]>('backends');
  return vscode.workspace.isTrusted && (i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined);
}

/** The backend named by `sclab.defaultBackend`, else the first configured, else the embedded fallback. */
export function defaultBackend(): BackendSetting {
  const all = readBackends();
  const name = section().get<string>('defaultBackend', '');
  return all.find((b) => b.name === name) ?? all[0] ?? FALLBACK_BACKEND;
}

export function backendByName(name: string): BackendSetting | undefined {
  return [...readBackends(), FALLBACK_BACKEND].find((b) => b.name === name);
}

export async function writeBackends(list: BackendSetting[]): Promise<void> {
  // user settings: a workspace value would be ignored in untrusted workspaces and could be committed by mistake
  await section().update('backends', list, vscode.ConfigurationTarget.Global);
}

export interface RunSettingsFromConfig {
  concurrency: number;
  defaultRounds: number;
  requestTimeoutMs: number;
}

function positiveInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback;
}

export function readRunSettings(): RunSettingsFromConfig {
  const c = section();
  const seconds = c.get<number>('requestTimeoutSeconds', 120);
  return {
    concurrency: positiveInt(c.get('concurrency'), 4),
    defaultRounds: positiveInt(c.get('defaultRounds'), 3),
    requestTimeoutMs: Math.round(1000 * (typeof seconds === 'number' && seconds > 0 ? seconds : 120)),
  };
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** `sclab.runsFolder` resolved against the first workspace folder; undefined without a folder open. */
export function runsFolder(): string | undefined {
  const root = workspaceRoot();
  if (!root) return undefined;
  const configured = section().get<string>('runsFolder', '.sclab/runs') || '.sclab/runs';
  return path.resolve(root, configured);
}
