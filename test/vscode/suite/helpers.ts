import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SclabApi } from '../../../src/extension/extension';
import type { Prompts } from '../../../src/extension/prompts';

export const EXTENSION_ID = 'self-correction-lab.self-correction-lab';

export async function activateExtension(): Promise<{ api: SclabApi; ext: vscode.Extension<SclabApi> }> {
  const ext = vscode.extensions.getExtension<SclabApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed in this VS Code`);
  const api = await ext.activate();
  return { api, ext };
}

export function workspaceDir(): string {
  const dir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!dir) throw new Error('the extension tests need a workspace folder (the launcher opens one)');
  return dir;
}

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Answers the extension's questions from a script: each call takes the next answer for that kind of question. */
export function scriptedPrompts(answers: { inputs?: string[]; picks?: string[]; confirm?: boolean }): Prompts & { asked: string[] } {
  const inputs = [...(answers.inputs ?? [])];
  const picks = [...(answers.picks ?? [])];
  const asked: string[] = [];
  return {
    asked,
    pick: async (items, options) => {
      asked.push(`pick:${options.title ?? ''}`);
      const label = picks.shift();
      return items.find((i) => i.label === label);
    },
    input: async (options) => {
      asked.push(`input:${options.title ?? ''}`);
      return inputs.shift();
    },
    confirm: async (message) => {
      asked.push(`confirm:${message}`);
      return answers.confirm ?? false;
    },
    saveTo: async () => undefined,
    openFile: async () => undefined,
  };
}

/** Every file under `dir` (missing folders give nothing). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
