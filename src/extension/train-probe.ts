import * as path from 'node:path';
import * as vscode from 'vscode';
import { SclabError } from '../core/model/errors';
import { resolveEmbeddedModel } from './backend-factory';
import { registerCommand, type CommandDeps } from './command';
import { core } from './load-core';
import type { PromptsHolder } from './prompts';
import { backendByName, readBackends, FALLBACK_BACKEND, workspaceRoot } from './settings';

type Variant = 'statements' | 'logistic' | 'classifier-direction';
type Module = 'residual' | 'attn' | 'mlp';

export interface TrainProbeArgs {
  data?: string;
  variant?: Variant;
  module?: Module;
  textField?: string;
  labelField?: string;
  /** label values of the positive class (default ["1"]) */
  positive?: string[];
  /** an embedded backend's name */
  backend?: string;
  out?: string;
}

export interface TrainProbeDeps extends CommandDeps {
  prompts: PromptsHolder;
  distDir: string;
}

const VARIANTS: Array<vscode.QuickPickItem & { variant: Variant }> = [
  { label: 'statements', variant: 'statements', description: 'a direction from plain statements (one per line), as the paper\'s probing' },
  { label: 'logistic', variant: 'logistic', description: 'per-layer logistic probes from labelled texts, with held-out accuracy' },
  { label: 'classifier-direction', variant: 'classifier-direction', description: 'one classifier on the last layer, its direction read at every layer' },
];

/** The questions not answered by `given`, asked in order; undefined when the user backs out. */
async function ask(deps: TrainProbeDeps, given: TrainProbeArgs): Promise<Required<Pick<TrainProbeArgs, 'data' | 'variant' | 'module' | 'backend' | 'out'>> & TrainProbeArgs | undefined> {
  const p = deps.prompts.current;
  let data = given.data;
  if (!data) {
    const uris = await vscode.workspace.findFiles('**/*.{txt,jsonl,csv,tsv}', '{**/node_modules/**,**/.sclab/**}', 500);
    const picked = await p.pick(uris.map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), file: u.fsPath })), { title: 'Train Probe (1/4): statements or labelled texts', matchOnDescription: true });
    data = picked?.file;
    if (!data) return undefined;
  }
  const variant = given.variant ?? (await p.pick(VARIANTS, { title: 'Train Probe (2/4): kind of probe' }))?.variant;
  if (!variant) return undefined;
  let { textField, labelField } = given;
  if (variant !== 'statements' || !/\.txt$/i.test(data)) {
    textField ??= await p.input({ title: 'Field that holds the text', value: 'text' });
    if (!textField) return undefined;
  }
  if (variant !== 'statements') {
    labelField ??= await p.input({ title: 'Field that holds the label (positive class: 1)', value: 'label' });
    if (!labelField) return undefined;
  }
  const embedded = [...readBackends().filter((b) => b.kind === 'embedded'), FALLBACK_BACKEND];
  const backend = given.backend ?? (embedded.length === 1 ? embedded[0]!.name : (await p.pick(embedded.map((b) => ({ label: b.name, description: b.model ?? '' })), { title: 'Train Probe (3/4): model (embedded engine)' }))?.label);
  if (!backend) return undefined;
  const out =
    given.out ??
    (await p.saveTo({ title: 'Train Probe (4/4): probe file', defaultUri: vscode.Uri.file(data.replace(/\.[^./]+$/, '') + '.probe.json'), filters: { 'Probe file': ['json'] } }))?.fsPath;
  if (!out) return undefined;
  return { ...given, data, variant, module: given.module ?? 'residual', textField, labelField, backend, out };
}

/** "Train Probe…": hidden states from the embedded engine (in its worker) → a sclab.probe/1 file. */
async function trainProbeCommand(deps: TrainProbeDeps, arg: unknown): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) throw new SclabError('config', 'this workspace is not trusted: nothing runs here');
  const o = await ask(deps, (arg && typeof arg === 'object' ? arg : {}) as TrainProbeArgs);
  if (!o) return undefined;
  if (!o.out.endsWith('.json')) throw new SclabError('config', `name the probe file *.probe.json (got ${o.out})`);
  const setting = backendByName(o.backend);
  if (!setting || setting.kind !== 'embedded') throw new SclabError('config', `probes are trained on the embedded engine; "${o.backend}" is not an embedded backend`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Training a ${o.variant} probe`, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    const c = await core();
    const modelSpec = await resolveEmbeddedModel(setting, { baseDir: workspaceRoot(), signal: controller.signal });
    const client = await c.EngineClient.start({ modelSpec, workerPath: path.join(deps.distDir, 'engine-worker.js'), mode: 'worker' });
    try {
      const r = await c.trainProbe([client], {
        data: o.data,
        variant: o.variant,
        module: o.module,
        ...(o.textField ? { textField: o.textField } : {}),
        ...(o.labelField ? { labelField: o.labelField } : {}),
        ...(o.positive ? { positive: o.positive } : {}),
        signal: controller.signal,
        onProgress: (stage, done, total) => progress.report({ message: `${stage} ${done}/${total}` }),
      });
      await c.writeProbeFile(o.out, r.probe);
      const best = r.probe.layers.reduce<{ layer: number; acc: number } | null>((b, l) => (l.heldOutAccuracy !== null && l.heldOutAccuracy !== undefined && (!b || l.heldOutAccuracy > b.acc) ? { layer: l.layer, acc: l.heldOutAccuracy } : b), null);
      deps.log.info(`probe ${o.out}: ${o.variant} on ${r.probe.model.name}, ${r.texts} texts, band ${r.probe.band[0]}-${r.probe.band[1]}${best ? `, best held-out accuracy ${best.acc.toFixed(3)} at layer ${best.layer}` : ''}`);
      void vscode.window.showInformationMessage(`Probe written: ${path.basename(o.out)} (band ${r.probe.band[0]}–${r.probe.band[1]}${best ? `, held-out accuracy up to ${best.acc.toFixed(2)}` : ''})`, 'Open').then((a) => {
        if (a === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(o.out));
      });
      return o.out;
    } finally {
      await client.close();
    }
  });
}

export function registerTrainProbe(deps: TrainProbeDeps): vscode.Disposable[] {
  return [registerCommand(deps, 'sclab.trainProbe', (arg?: unknown) => trainProbeCommand(deps, arg))];
}
