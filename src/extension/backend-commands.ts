import * as vscode from 'vscode';
import { registerCommand, type CommandDeps } from './command';
import type { PromptsHolder } from './prompts';
import type { ApiKeys, OriginDecision } from './secrets';
import { readBackends, readUserBackends, workspaceShadowsBackends, writeBackends, type BackendKind, type BackendSetting } from './settings';

export interface BackendCommandDeps extends CommandDeps {
  keys: ApiKeys;
  prompts: PromptsHolder;
}

function nameArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = (arg as { name?: unknown } | undefined)?.name;
  return typeof n === 'string' ? n : undefined;
}

/** "Set API Key…": a password box, stored in SecretStorage under the backend's name. */
async function setApiKey(deps: BackendCommandDeps, arg: unknown): Promise<boolean> {
  const p = deps.prompts.current;
  let name = nameArg(arg);
  let scorer = false;
  if (!name) {
    const candidates = readBackends().filter((b) => b.kind !== 'embedded');
    const OTHER = '$(key) A scorer\'s key (by its apiKeyEnv name)…';
    const tokens = candidates.filter((b) => b.kind === 'sidecar' && b.sidecarUrl).map((b) => ({ label: `${b.name} · sidecar token`, description: b.sidecarUrl, backend: b }));
    const picked = await p.pick<vscode.QuickPickItem & { backend?: BackendSetting }>([...candidates.map((b) => ({ label: b.name, description: `${b.kind} · ${b.baseUrl ?? ''}` })), ...tokens, { label: OTHER, description: 'e.g. PERSPECTIVE_API_KEY, as the experiment file names it' }], { title: 'Set API Key for which backend?' });
    if (!picked) return false;
    if (picked.backend?.sidecarUrl) return setSidecarToken(deps, picked.backend.name, picked.backend.sidecarUrl);
    scorer = picked.label === OTHER;
    name = scorer ? await p.input({ title: 'Key name (the scorer\'s apiKeyEnv)', validateInput: (v) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? undefined : 'letters, digits and _') }) : picked.label;
    if (!name) return false;
  }
  const key = await p.input({ title: `API key for ${name}`, prompt: 'Kept in VS Code\'s secret storage, never in settings or run folders. Leave empty to remove it.', password: true, ignoreFocusOut: true });
  if (key === undefined) return false;
  if (key.trim() === '') {
    await (scorer ? deps.keys.deleteScorerKey(name) : deps.keys.delete(name));
    deps.log.info(`API key of ${name} removed`);
  } else if (scorer) {
    await deps.keys.setScorerKey(name, key.trim());
    deps.log.info(`scorer key ${name} stored in secret storage`);
  } else {
    // bound to the backend's origin now: a setting that later points this name elsewhere is asked about first
    await deps.keys.set(name, key.trim(), readBackends().find((b) => b.name === name)?.baseUrl);
    deps.log.info(`API key of ${name} stored in secret storage`);
  }
  return true;
}

/** A sidecar backend's bearer token, bound to the sidecar's origin. */
async function setSidecarToken(deps: BackendCommandDeps, name: string, sidecarUrl: string): Promise<boolean> {
  const token = await deps.prompts.current.input({ title: `Sidecar token for ${name}`, prompt: `Sent only to ${sidecarUrl}; kept in VS Code's secret storage. Leave empty to remove it.`, password: true, ignoreFocusOut: true });
  if (token === undefined) return false;
  if (token.trim() === '') await deps.keys.deleteSidecarToken(name);
  else await deps.keys.setSidecarToken(name, token.trim(), sidecarUrl);
  deps.log.info(`sidecar token of ${name} ${token.trim() === '' ? 'removed' : 'stored in secret storage'}`);
  return true;
}

const KIND_ITEMS: Array<vscode.QuickPickItem & { backendKind: BackendKind }> = [
  { label: 'openai', backendKind: 'openai', description: 'an OpenAI-compatible server: OpenAI, vLLM, SGLang, llama.cpp, Ollama, LM Studio' },
  { label: 'embedded', backendKind: 'embedded', description: 'the in-process engine: llama2.c checkpoints, Hugging Face Llama-family folders' },
  { label: 'sidecar', backendKind: 'sidecar', description: 'hidden states and probe scores next to a big model' },
];

/** "Configure Backend…": add or edit an entry of sclab.backends (in user settings), then offer the key. */
async function configureBackend(deps: BackendCommandDeps, arg: unknown): Promise<BackendSetting | undefined> {
  const p = deps.prompts.current;
  const list = readUserBackends();
  let existing = list.find((b) => b.name === nameArg(arg));
  if (!existing && !nameArg(arg) && list.length > 0) {
    const picked = await p.pick([{ label: '$(add) New backend…', name: '' }, ...list.map((b) => ({ label: b.name, description: `${b.kind} · ${b.model ?? ''}`, name: b.name }))], { title: 'Configure which backend?' });
    if (!picked) return undefined;
    existing = list.find((b) => b.name === picked.name);
  }
  const name = await p.input({ title: 'Backend name', value: existing?.name ?? '', validateInput: (v) => (v.trim() === '' ? 'a name is needed' : undefined) });
  if (!name) return undefined;
  const kind = (await p.pick(KIND_ITEMS, { title: `Kind of ${name}` }))?.backendKind;
  if (!kind) return undefined;
  let baseUrl: string | undefined;
  if (kind !== 'embedded') {
    baseUrl = await p.input({
      title: `Base URL of ${name}`,
      value: existing?.baseUrl ?? 'http://127.0.0.1:8000/v1',
      validateInput: (v) => (/^https?:\/\/[^\s]+$/.test(v.trim()) && !/\/\/[^/]*@/.test(v) ? undefined : 'an http(s) URL without credentials in it (set the key with Set API Key…)'),
    });
    if (baseUrl === undefined) return undefined;
  }
  let sidecarUrl: string | undefined;
  if (kind === 'sidecar') {
    sidecarUrl = await p.input({
      title: `Sidecar URL of ${name} (hidden states, probe scores; the base URL above generates)`,
      value: existing?.sidecarUrl ?? 'http://127.0.0.1:8765',
      validateInput: (v) => (/^https?:\/\/[^\s]+$/.test(v.trim()) && !/\/\/[^/]*@/.test(v) ? undefined : 'an http(s) URL without credentials in it (set the token with Set API Key…)'),
    });
    if (sidecarUrl === undefined) return undefined;
  }
  const model = await p.input({ title: kind === 'embedded' ? 'Model: a catalogue name (stories260K, …) or a local folder' : 'Model id the server serves', value: existing?.model ?? (kind === 'embedded' ? 'stories260K' : '') });
  if (model === undefined) return undefined;
  const entry: BackendSetting = { name: name.trim(), kind, ...(baseUrl ? { baseUrl: baseUrl.trim() } : {}), ...(sidecarUrl ? { sidecarUrl: sidecarUrl.trim() } : {}), ...(model.trim() ? { model: model.trim() } : {}) };
  await writeBackends([...list.filter((b) => b.name !== existing?.name && b.name !== entry.name), entry]);
  deps.log.info(`backend ${entry.name} saved to user settings`);
  if (workspaceShadowsBackends()) {
    void vscode.window.showWarningMessage(`Backend ${entry.name} is in your user settings, but this workspace's .vscode/settings.json sets sclab.backends too, and that list wins here.`);
  }
  if (kind !== 'embedded' && !(await deps.keys.has(entry.name))) {
    // not awaited: the command is done; the offer stays in the notification until the user acts on it
    void vscode.window.showInformationMessage(`Backend ${entry.name} saved. Does it need an API key?`, 'Set API Key…').then((a) => {
      if (a === 'Set API Key…') void vscode.commands.executeCommand('sclab.setApiKey', entry.name);
    });
  }
  return entry;
}

export function registerBackendCommands(deps: BackendCommandDeps): vscode.Disposable[] {
  return [
    registerCommand(deps, 'sclab.setApiKey', (arg?: unknown) => setApiKey(deps, arg)),
    registerCommand(deps, 'sclab.configureBackend', (arg?: unknown) => configureBackend(deps, arg)),
  ];
}

/** Asked before a backend's key goes to another origin than it was stored for (a setting now points elsewhere). */
export async function askKeyOrigin(backendName: string, boundTo: string, now: string): Promise<OriginDecision> {
  const ONCE = 'Send This Time';
  const REBIND = 'Send and Remember';
  const picked = await vscode.window.showWarningMessage(
    `The API key of backend "${backendName}" was stored for ${boundTo}, but the backend now points at ${now}. Send the key there?`,
    { modal: true, detail: 'A workspace setting or an experiment file may have changed the URL. If you did not, cancel.' },
    ONCE,
    REBIND,
  );
  return picked === ONCE ? 'send-once' : picked === REBIND ? 'rebind' : 'cancel';
}
