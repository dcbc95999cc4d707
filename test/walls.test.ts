// DESIGN.md §1's walls, checked two ways: the lint rules reject a violation, and no file in the tree has one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/cli';

function files(dir: string): string[] {
  const abs = path.join(REPO, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true })
    .map(String)
    .filter((f) => /\.(ts|tsx|js|mjs)$/.test(f))
    .map((f) => path.join(abs, f));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
}

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

describe('walls', () => {
  it('src/core never imports vscode, the hosts or the webview, and never reads process.env', () => {
    const core = files('src/core');
    expect(core.length).toBeGreaterThan(20);
    for (const f of core) {
      for (const spec of imports(f)) {
        expect(spec, f).not.toBe('vscode');
        expect(spec, f).not.toMatch(/(^|\/)(cli|extension|webview)(\/|$)/);
      }
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/process\.env\b/);
    }
  });

  it('browser-safe parts (model, analysis, webview) import no Node built-ins', () => {
    for (const f of [...files('src/core/model'), ...files('src/core/analysis'), ...files('webview')]) {
      for (const spec of imports(f)) expect(nodeBuiltins.has(spec), `${f} imports ${spec}`).toBe(false);
    }
  });

  it('the lint rules reject a crossed wall', async () => {
    const eslint = new ESLint({ cwd: REPO });
    const [vscodeInCore] = await eslint.lintText("import * as vscode from 'vscode';\nexport const x = vscode;\n", { filePath: path.join(REPO, 'src/core/runner/x.ts') });
    expect(vscodeInCore!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [cliInCore] = await eslint.lintText("import { EXIT } from '../../cli/exit';\nexport const x = EXIT;\n", { filePath: path.join(REPO, 'src/core/runner/x.ts') });
    expect(cliInCore!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [envInCore] = await eslint.lintText('export const k = process.env.OPENAI_API_KEY;\n', { filePath: path.join(REPO, 'src/core/backends/x.ts') });
    expect(envInCore!.messages.map((m) => m.ruleId)).toContain('no-restricted-syntax');
    const [fsInAnalysis] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", { filePath: path.join(REPO, 'src/core/analysis/x.ts') });
    expect(fsInAnalysis!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [fine] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", { filePath: path.join(REPO, 'src/core/runner/x.ts') });
    expect(fine!.messages).toEqual([]);
  });

  it('the tool version matches package.json', async () => {
    const { TOOL_VERSION } = await import('../src/core/version');
    expect(TOOL_VERSION).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });
});
