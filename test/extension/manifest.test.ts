// The extension's manifest against its code, without VS Code: every contributed command is registered, every menu
// names a contributed command, settings never hold secrets, workspace trust restricts the backend settings.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  main: string;
  contributes: {
    walkthroughs: Array<{ id: string; steps: Array<{ id: string; description: string; media: { markdown?: string }; completionEvents: string[] }> }>;
    yamlValidation: Array<{ fileMatch: string; url: string }>;
    commands: Array<{ command: string; title: string }>; menus: Record<string, Array<{ command: string }>>; configuration: { properties: Record<string, unknown> }; views: Record<string, Array<{ id: string }>> };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations?: string[] } };
  scripts: Record<string, string>;
};
const sources = readdirSync(path.join(REPO, 'src/extension'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(path.join(REPO, 'src/extension', f), 'utf8'))
  .join('\n');

describe('extension manifest', () => {
  it('registers every contributed command in src/extension', () => {
    const registered = new Set([...sources.matchAll(/registerCommand\(\s*deps,\s*'([^']+)'/g)].map((m) => m[1]));
    const contributed = pkg.contributes.commands.map((c) => c.command);
    expect(contributed.length).toBeGreaterThanOrEqual(10);
    expect(contributed.filter((c) => !registered.has(c))).toEqual([]);
    expect([...registered].filter((c) => !contributed.includes(c!))).toEqual([]);
  });

  it('has the palette commands the issue lists', () => {
    const titles = pkg.contributes.commands.map((c) => c.title);
    for (const t of ['Run Experiment…', 'Run Experiment on This File', 'Open Results', 'Compare Two Runs', 'Validate Dataset', 'Train Probe…', 'Export Run', 'Configure Backend…', 'Set API Key…', 'Cancel Run']) {
      expect(titles).toContain(t);
    }
  });

  it('menus name only contributed commands, and the explorer offers run and validate', () => {
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(pkg.contributes.menus)) {
      for (const e of entries) expect(contributed.has(e.command), `${menu}: ${e.command}`).toBe(true);
    }
    expect(pkg.contributes.menus['explorer/context']!.map((e) => e.command)).toEqual(['sclab.runExperimentOnFile', 'sclab.newExperiment', 'sclab.validateDataset']);
    expect(pkg.contributes.menus['editor/title']!.map((e) => e.command)).toContain('sclab.runExperimentOnFile');
  });

  it('keeps secrets out of settings and restricts backend settings in untrusted workspaces', () => {
    const props = Object.keys(pkg.contributes.configuration.properties);
    expect(props).toEqual(expect.arrayContaining(['sclab.backends', 'sclab.defaultBackend', 'sclab.concurrency', 'sclab.defaultRounds', 'sclab.runsFolder']));
    expect(props.filter((p) => /key|secret|token|password/i.test(p))).toEqual([]);
    const itemProps = Object.keys((pkg.contributes.configuration.properties['sclab.backends'] as { items: { properties: Record<string, unknown> } }).items.properties);
    expect(itemProps.sort()).toEqual(['baseUrl', 'kind', 'maxRpm', 'maxTpm', 'model', 'name', 'sidecarUrl']);
    expect(pkg.capabilities.untrustedWorkspaces.supported).toBe('limited');
    expect(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations).toEqual(['sclab.backends', 'sclab.defaultBackend']);
  });

  it('has the Runs and Backends views and the packaging scripts', () => {
    expect(pkg.contributes.views.sclab!.map((v) => v.id)).toEqual(['sclab.runs', 'sclab.backends']);
    expect(pkg.main).toBe('./dist/extension.js');
    for (const s of ['test:vscode', 'test:e2e', 'package']) expect(pkg.scripts[s]).toBeTruthy();
  });

  it('keeps the heavy core out of the host bundle: src/extension imports core only lazily or for types', () => {
    // core-bundle.ts and what only it imports (item-outcomes.ts) are the lazily loaded bundle itself
    const hostFiles = readdirSync(path.join(REPO, 'src/extension')).filter((f) => f.endsWith('.ts') && !['core-bundle.ts', 'item-outcomes.ts'].includes(f));
    const hostSources = hostFiles.map((f) => readFileSync(path.join(REPO, 'src/extension', f), 'utf8')).join('\n');
    expect(hostSources).not.toMatch(/^import (?!type )[^;]*from '\.\/(core-bundle|item-outcomes)'/m);
    const eager = [...hostSources.matchAll(/^import (?!type )[^;]*from '\.\.\/core\/([^']+)'/gm)].map((m) => m[1]);
    // errors.ts is a few lines with no dependencies; everything else comes through load-core.ts at first use
    expect(eager.filter((m) => m !== 'model/errors')).toEqual([]);
  });

  it('walks a newcomer through data, backend, experiment, run and results, each step with a button and a completion event', () => {
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    const views = new Set(pkg.contributes.views.sclab!.map((v) => v.id));
    const [walk] = pkg.contributes.walkthroughs;
    expect(walk?.steps.map((s) => s.id)).toEqual(['dataset', 'backend', 'experiment', 'run', 'results']);
    for (const step of walk!.steps) {
      // a line that is only a command link is a button
      const buttons = [...step.description.matchAll(/^\[[^\]]+\]\(command:([^)?]+)(?:\?([^)]*))?\)$/gm)];
      expect(buttons.length, step.id).toBeGreaterThan(0);
      for (const [, command, args] of buttons) {
        expect(contributed.has(command!) || views.has(command!.replace(/\.focus$/, '')), `${step.id}: ${command}`).toBe(true);
        if (args) expect(() => JSON.parse(decodeURIComponent(args))).not.toThrow();
      }
      expect(step.completionEvents.length, step.id).toBeGreaterThan(0);
      for (const e of step.completionEvents) {
        const [kind, target] = e.split(':');
        if (kind === 'onCommand') expect(contributed.has(target!), e).toBe(true);
        else if (kind === 'onView') expect(views.has(target!), e).toBe(true);
        else expect(kind).toBe('onSettingChanged');
      }
      expect(existsSync(path.join(REPO, step.media.markdown!)), step.media.markdown).toBe(true);
    }
    // the honest word about the default model, where the backend is chosen
    expect(walk!.steps[1]!.description).toMatch(/stories260K.*tiny.*answers mean nothing/s);
  });

  it('gives *.sclab.yaml files the generated experiment schema, and packages the demo dataset the walkthrough copies', () => {
    for (const v of pkg.contributes.yamlValidation) expect(existsSync(path.join(REPO, v.url)), v.url).toBe(true);
    expect(pkg.contributes.yamlValidation.map((v) => v.fileMatch)).toEqual(['*.sclab.yaml', '*.sclab.yml']);
    expect(readFileSync(path.join(REPO, '.vscodeignore'), 'utf8')).toMatch(/^!examples\/demo\/bbq-demo\.jsonl$/m);
  });
});
