// The extension in a real VS Code: activation, commands, a run with the embedded engine, the Runs tree, results
// panel, CodeLens, export, cancel/resume and the rule that API keys never reach settings or run folders.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SclabApi } from '../../../src/extension/extension';
import type { RunResult } from '../../../src/core/runner/run';
import { startFakeOpenAIServer, type FakeServer } from '../../support/fake-openai-server';
import { activateExtension, filesUnder, scriptedPrompts, waitFor, workspaceDir } from './helpers';

describe('Self-Correction Lab extension', function () {
  let api: SclabApi;
  let ext: vscode.Extension<SclabApi>;
  let dataset: string;
  let finished: RunResult;
  const secret = `sk-sclab-test-${Math.random().toString(36).slice(2)}-DO-NOT-LEAK`;
  const servers: FakeServer[] = [];
  let originalBackends: unknown[] = [];
  /** the launcher's backends plus `extra`, in the workspace settings */
  const useBackends = async (extra: unknown[]) => {
    await vscode.workspace.getConfiguration('sclab').update('backends', [...originalBackends, ...extra], vscode.ConfigurationTarget.Workspace);
  };

  before(async () => {
    ({ api, ext } = await activateExtension());
    dataset = path.join(workspaceDir(), 'data', 'hostile.jsonl');
    originalBackends = vscode.workspace.getConfiguration('sclab').get<unknown[]>('backends', []);
  });

  after(async () => {
    for (const s of servers) await s.close();
  });

  it('activates and reports its activation time', () => {
    assert.equal(ext.isActive, true);
    assert.equal(typeof api.activationMs, 'number');
    console.log(`    activation: ${api.activationMs.toFixed(1)} ms (module evaluation + activate)`);
  });

  it('registers every contributed command', async () => {
    const contributed = (ext.packageJSON.contributes.commands as Array<{ command: string }>).map((c) => c.command);
    assert.ok(contributed.length >= 10, 'the manifest contributes the palette commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('reads the backend the test settings configure (a local model folder)', () => {
    const backends = vscode.workspace.getConfiguration('sclab').get<Array<{ name: string; model?: string }>>('backends', []);
    const embedded = backends.find((b) => b.name === 'test-embedded');
    assert.ok(embedded?.model && path.isAbsolute(embedded.model), 'the launcher sets sclab.backends to the stories260K folder');
  });

  it('validates the dataset into the Problems panel', async () => {
    const ok = (await vscode.commands.executeCommand('sclab.validateDataset', vscode.Uri.file(dataset))) as { items: number; errors: number };
    assert.equal(ok.items, 4);
    assert.equal(ok.errors, 0);
    const broken = path.join(workspaceDir(), 'data', 'broken.jsonl');
    await fs.writeFile(broken, '{"id":"a","question":"Q?","choices":["x","y"],"answer":1}\n{"id":"b", "question": \n');
    const bad = (await vscode.commands.executeCommand('sclab.validateDataset', vscode.Uri.file(broken))) as { errors: number };
    assert.ok(bad.errors >= 1);
    const diags = vscode.languages.getDiagnostics(vscode.Uri.file(broken));
    assert.ok(diags.some((d) => d.range.start.line === 1 && d.severity === vscode.DiagnosticSeverity.Error), 'an error on line 2');
    await fs.rm(broken);
  });

  it('New Experiment… writes a commented experiment file beside the dataset, opens it, and its problems reach the Problems panel', async () => {
    api.prompts.current = scriptedPrompts({ picks: ['hostile.jsonl', 'default protocol'] });
    const file = (await vscode.commands.executeCommand('sclab.newExperiment')) as string;
    assert.equal(file, path.join(workspaceDir(), 'data', 'hostile.sclab.yaml'));
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.fsPath, file, 'the new file is open in the editor');
    const text = editor!.document.getText();
    assert.match(text, /^# Self-Correction Lab experiment/);
    assert.match(text, /^ {2}path: hostile\.jsonl$/m);
    // misspell a key and save: the file is checked on save, the problem sits on its line
    const line = text.split('\n').indexOf('task: mcq');
    assert.ok(line > 0);
    await editor!.edit((e) => e.replace(new vscode.Range(line, 0, line, 4), 'tsk'));
    await editor!.document.save();
    const diags = await waitFor('a diagnostic on the misspelt key', () => {
      const d = vscode.languages.getDiagnostics(editor!.document.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.ok(diags.some((d) => d.range.start.line === line && /unknown key "tsk" \(did you mean "task"\?\)/.test(d.message)), diags.map((d) => d.message).join('; '));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await fs.rm(file);
  });

  it('runs the dataset with the embedded engine through "Run Experiment…"', async () => {
    api.prompts.current = scriptedPrompts({ picks: ['hostile.jsonl', 'auto', 'test-embedded'], inputs: ['2'] });
    finished = (await vscode.commands.executeCommand('sclab.runExperiment')) as RunResult;
    assert.ok(finished, 'the command returned the run');
    assert.equal(finished.status, 'completed', finished.error?.message);
    // 4 items × (baseline 1 round + self-correct 2 rounds)
    assert.equal(finished.manifest.counts.planned, 12);
    assert.equal(finished.manifest.counts.recorded, 12);
    assert.equal(finished.manifest.counts.errors, 0);
    assert.equal(finished.manifest.backend.kind, 'embedded');
    const lines = (await fs.readFile(path.join(finished.runDir, 'records.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 12);
  });

  it('shows the run in the Runs tree with its status, model and conditions', async () => {
    const roots = await api.runsTree.getChildren();
    const node = roots.find((n) => n.type === 'run' && path.resolve(n.entry.runDir) === path.resolve(finished.runDir));
    assert.ok(node, 'the finished run is listed');
    const item = api.runsTree.getTreeItem(node);
    assert.match(String(item.description), /completed/);
    assert.match(String(item.contextValue), /^run\.completed/);
    const details = await api.runsTree.getChildren(node);
    const text = details.map((d) => (d.type === 'detail' ? `${d.label}: ${d.description}` : '')).join('\n');
    assert.match(text, /model: .*embedded/);
    assert.match(text, /conditions: baseline, self-correct/);
    assert.match(text, /records: 12\/12/);
  });

  it('puts each item\'s outcome per round on its dataset line (CodeLens)', async () => {
    const uri = vscode.Uri.file(dataset);
    await vscode.window.showTextDocument(uri);
    const lenses = await waitFor('CodeLenses on the dataset', async () => {
      const l = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) as vscode.CodeLens[];
      return l.filter((x) => x.command?.command === 'sclab.openItem').length === 4 ? l : undefined;
    });
    const mine = lenses.filter((x) => x.command?.command === 'sclab.openItem');
    assert.deepEqual(
      mine.map((l) => l.range.start.line).sort(),
      [0, 1, 2, 3],
    );
    for (const l of mine) assert.match(l.command!.title, /self-correct: .+ → .+/);
    assert.ok(mine.some((l) => /gold rank \d+ → \d+/.test(l.command!.title)), 'the embedded engine ranks options exactly');
  });

  it('opens the results panel beside the editor and answers the viewer', async () => {
    await vscode.commands.executeCommand('sclab.openResults', finished.runDir);
    const tab = await waitFor('a results tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('sclab.results')),
    );
    assert.match(tab.label, /Results/);
    const panel = api.panels.list().find((p) => p.target.runDir === finished.runDir);
    assert.ok(panel);
    await waitFor('the viewer app to start and ask for the overview', () => panel.received.includes('command:ready') && panel.received.some((r) => r.startsWith('request:')), 60_000);
  });

  it('rejects malformed viewer messages and reveals an item\'s line from the run\'s items', async () => {
    const panel = api.panels.list().find((p) => p.target.runDir === finished.runDir)!;
    const before = panel.received.length;
    await panel.receive({ kind: 'command', command: 'runShell', args: { cmd: 'rm -rf /' } });
    await panel.receive({ kind: 'request', id: -1, method: 'overview', params: {} });
    assert.equal(panel.received.length, before, 'nothing invalid got through');
    // the webview names only the item; the file and line come from items.jsonl
    await panel.receive({ kind: 'command', command: 'revealItem', args: { itemId: 'q3-link', file: '/etc/passwd', line: 1 } });
    const editor = await waitFor('the dataset editor', () => (vscode.window.activeTextEditor?.document.uri.fsPath === dataset ? vscode.window.activeTextEditor : undefined));
    assert.equal(editor.selection.active.line, 2);
  });

  it('exports the run as CSV, JSONL and HTML', async () => {
    const out = path.join(workspaceDir(), 'exports');
    const csv = (await vscode.commands.executeCommand('sclab.exportRun', finished.runDir, 'csv', path.join(out, 'run.csv'))) as string;
    const csvText = await fs.readFile(csv, 'utf8');
    assert.match(csvText, /^item_id,condition,round,/);
    assert.equal(csvText.trim().split('\r\n').length, 13);
    const jsonl = (await vscode.commands.executeCommand('sclab.exportRun', finished.runDir, 'jsonl', path.join(out, 'run.jsonl'))) as string;
    assert.equal((await fs.readFile(jsonl, 'utf8')).trim().split('\n').length, 12);
    const html = (await vscode.commands.executeCommand('sclab.exportRun', finished.runDir, 'html', path.join(out, 'run.html'))) as string;
    const htmlText = await fs.readFile(html, 'utf8');
    assert.match(htmlText, /<html/i);
    assert.doesNotMatch(htmlText, /<script>window\.__sclabPwned/, 'dataset text is escaped in the report');
  });

  it('cancels a run from the command and resumes it without redoing records', async () => {
    const running = vscode.commands.executeCommand('sclab.runExperimentOnFile', vscode.Uri.file(dataset), { rounds: 5 }) as Thenable<RunResult>;
    await waitFor('the run to record something', () => api.runs.list().some((r) => (r.progress?.recorded ?? 0) >= 2), 120_000);
    assert.equal(await vscode.commands.executeCommand('sclab.cancelRun'), 1);
    const cancelled = await running;
    assert.equal(cancelled.status, 'cancelled');
    const recordedBefore = cancelled.manifest.counts.recorded;
    assert.ok(recordedBefore < cancelled.manifest.counts.planned);
    const entry = (await api.runsTree.list()).find((e) => e.runDir === cancelled.runDir);
    assert.equal(entry?.resumable, true);
    const resumed = (await vscode.commands.executeCommand('sclab.resumeRun', cancelled.runDir)) as RunResult;
    assert.equal(resumed.status, 'completed', resumed.error?.message);
    assert.equal(resumed.manifest.counts.recorded, resumed.manifest.counts.planned);
    const lines = (await fs.readFile(path.join(resumed.runDir, 'records.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { itemId: string; condition: string; round: number });
    const keys = new Set(lines.map((r) => `${r.itemId}/${r.condition}/${r.round}`));
    assert.equal(keys.size, lines.length, 'no record written twice');
  });

  it('runs against an OpenAI-compatible server with the key from secret storage, and survives closing its panel', async () => {
    // the server refuses any other key, and holds every answer for 2 s until the test lets go: the run is still
    // going when its panel closes, whatever the speed of the machine
    let held = true;
    const server = await startFakeOpenAIServer({ requireKey: secret, faults: ({ path: p }) => (held && p.includes('chat') ? { kind: 'delay', ms: 2000 } : undefined) });
    servers.push(server);
    api.prompts.current = scriptedPrompts({ inputs: [secret] });
    assert.equal(await vscode.commands.executeCommand('sclab.setApiKey', 'test-fake'), true);
    await useBackends([{ name: 'test-fake', kind: 'openai', baseUrl: server.url, model: 'fake-model' }]);
    const running = vscode.commands.executeCommand('sclab.runExperimentOnFile', vscode.Uri.file(dataset), { backend: 'test-fake' }) as Thenable<RunResult>;
    const runDir = await waitFor('the run folder', () => api.runs.list().find((r) => r.runDir)?.runDir, 60_000);
    await vscode.commands.executeCommand('sclab.openResults', runDir);
    const tab = await waitFor('its results tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes(path.basename(runDir))),
    );
    assert.equal(api.runs.isActive(runDir), true, 'the run is still going when its panel closes');
    await vscode.window.tabGroups.close(tab);
    held = false;
    const result = await running;
    assert.equal(result.status, 'completed', result.error?.message);
    assert.equal(result.manifest.backend.kind, 'openai');
    assert.equal(result.manifest.counts.recorded, result.manifest.counts.planned);
    assert.equal(result.manifest.counts.errors, 0, 'the key reached the server (it answers 401 to any other)');
    assert.ok(server.requests.length > 0);
  });

  it('finds a run a closed window left behind and resumes it', async () => {
    // what a killed window leaves: status "running", a lock held by a process that no longer exists, records cut short
    const dir = path.join(path.dirname(finished.runDir), `${path.basename(finished.runDir)}-interrupted`);
    await fs.cp(finished.runDir, dir, { recursive: true });
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { status: string; counts: { recorded: number } };
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, status: 'running', counts: { ...manifest.counts, recorded: 7 } }, null, 2));
    const lines = (await fs.readFile(path.join(dir, 'records.jsonl'), 'utf8')).trim().split('\n');
    await fs.writeFile(path.join(dir, 'records.jsonl'), lines.slice(0, 7).join('\n') + '\n');
    await fs.rm(path.join(dir, 'summary.json'), { force: true });
    await fs.writeFile(path.join(dir, 'run.lock'), '2147483646');
    const entry = (await api.runsTree.list()).find((e) => e.runDir === dir);
    assert.equal(entry?.interrupted, true);
    assert.equal(entry?.resumable, true);
    assert.match(String(api.runsTree.getTreeItem({ type: 'run', entry }).description), /interrupted/);
    const resumed = (await vscode.commands.executeCommand('sclab.resumeRun', dir)) as RunResult;
    assert.equal(resumed.status, 'completed', resumed.error?.message);
    assert.equal(resumed.manifest.counts.recorded, 12);
    assert.equal((await fs.readFile(path.join(dir, 'records.jsonl'), 'utf8')).trim().split('\n').length, 12);
  });

  it('compares two runs in one panel', async () => {
    const other = (await api.runsTree.list()).find((e) => e.runDir !== finished.runDir && e.manifest.status === 'completed')!;
    await vscode.commands.executeCommand('sclab.compareRuns', finished.runDir, other.runDir);
    await waitFor('a compare tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Compare')));
    const panel = api.panels.list().find((p) => p.target.compareRunDir === other.runDir)!;
    await waitFor('the compare panel to ask the service', () => panel.received.some((r) => r.startsWith('request:')), 60_000);
  });

  it('trains a probe and runs an experiment file that scores it; the CodeLens shows the band', async () => {
    const data = path.join(workspaceDir(), 'data');
    const out = (await vscode.commands.executeCommand('sclab.trainProbe', { data: path.join(data, 'statements.txt'), variant: 'statements', backend: 'test-embedded', out: path.join(data, 'statements.probe.json') })) as string;
    const probe = JSON.parse(await fs.readFile(out, 'utf8')) as { schema: string; model: { name: string }; layers: unknown[] };
    assert.equal(probe.schema, 'sclab.probe/1');
    assert.ok(probe.layers.length > 0);
    const run = (await vscode.commands.executeCommand('sclab.runExperimentOnFile', vscode.Uri.file(path.join(data, 'probed.sclab.yaml')))) as RunResult;
    assert.equal(run.status, 'completed', run.error?.message);
    const first = JSON.parse((await fs.readFile(path.join(run.runDir, 'records.jsonl'), 'utf8')).split('\n')[0]!) as { probes?: Record<string, unknown> };
    assert.ok(first.probes?.bias, 'records carry the probe scores');
    const uri = vscode.Uri.file(dataset);
    const lenses = await waitFor('CodeLenses with the probe band', async () => {
      const l = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) as vscode.CodeLens[];
      return l.some((x) => /bias -?\d/.test(x.command?.title ?? '')) ? l : undefined;
    });
    assert.ok(lenses.length >= 4);
  });

  it('adds a backend to the user settings through "Configure Backend…"', async () => {
    api.prompts.current = scriptedPrompts({ inputs: ['remote-test', 'http://127.0.0.1:9/v1', 'gpt-test'], picks: ['openai'] });
    const entry = (await vscode.commands.executeCommand('sclab.configureBackend')) as { name: string; kind: string };
    assert.deepEqual(entry, { name: 'remote-test', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'gpt-test' });
    const user = vscode.workspace.getConfiguration('sclab').inspect<Array<Record<string, unknown>>>('backends')?.globalValue ?? [];
    assert.deepEqual(user.map((b) => b.name), ['remote-test'], 'only the new entry: the workspace list is not copied into user settings');
    assert.deepEqual(Object.keys(user[0]!).sort(), ['baseUrl', 'kind', 'model', 'name']);
  });

  it('keeps API keys in secret storage only: never in settings files, run folders or the log', async () => {
    assert.equal(await api.keys.get('test-fake'), secret);
    const candidates = [
      path.join(api.userDir, 'settings.json'),
      path.join(workspaceDir(), '.vscode', 'settings.json'),
      ...(await filesUnder(path.join(workspaceDir(), '.sclab'))),
      ...(await filesUnder(path.join(api.userDir, '..', 'logs'))),
    ];
    const openaiRun = (await api.runsTree.list()).find((e) => e.manifest.backend.kind === 'openai');
    assert.ok(openaiRun, 'a run with the keyed backend exists to be checked');
    const leaks: string[] = [];
    for (const f of candidates) {
      const text = await fs.readFile(f, 'utf8').catch(() => '');
      if (text.includes(secret)) leaks.push(f);
    }
    assert.ok(candidates.some((f) => f.startsWith(openaiRun.runDir)), 'its run folder was scanned');
    assert.deepEqual(leaks, []);
    const wsSettings = await fs.readFile(path.join(workspaceDir(), '.vscode', 'settings.json'), 'utf8');
    assert.doesNotMatch(wsSettings, /apiKey|sk-sclab/);
  });

  it('deletes a run folder after confirmation', async () => {
    const runs = await api.runsTree.list();
    const victim = runs.find((e) => e.runDir !== finished.runDir)!;
    api.prompts.current = scriptedPrompts({ confirm: true });
    assert.equal(await vscode.commands.executeCommand('sclab.deleteRun', victim.runDir), true);
    await assert.rejects(fs.stat(victim.runDir));
  });
});
