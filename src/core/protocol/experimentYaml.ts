import { dirname, isAbsolute, resolve } from 'node:path';
import { Document, isMap, isScalar, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import type { Experiment } from '../model/experiment';
import type { Diagnostic } from '../model/item';
import { allowedKeysAt, StrictExperimentSchema } from './experimentSchema';
import { expandSweeps, sweepConditionName, sweptLocator } from './sweeps';
import { CHOICES_SLOT, templateSlots } from './templates';
import { formatFieldPath, yamlLocator, type FieldPath, type SourceLocator } from './yamlLocator';

/** Where each parsed experiment came from, so later checks (templates against items) can name file:line:column. */
const sources = new WeakMap<Experiment, SourceLocator>();

export function sourceOf(exp: Experiment): SourceLocator | undefined {
  return sources.get(exp);
}

/** file:line:column: path.to.field: message — one line per diagnostic ("warning: " marks warnings). */
export function formatExperimentDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

export function diagnosticAt(loc: SourceLocator | undefined, path: FieldPath, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  const field = formatFieldPath(path);
  const pos = loc ? loc.locate(path) : { line: 1, column: 1 };
  return { file: loc?.file ?? '<experiment>', line: pos.line, column: pos.column, severity, field, message: field ? `${field}: ${message}` : message };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0;
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] ?? 0;
}

function didYouMean(key: string, allowed: string[]): string {
  const best = allowed
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  if (best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3))) return ` (did you mean "${best.k}"?)`;
  return allowed.length > 0 ? ` (allowed here: ${allowed.join(', ')})` : '';
}

function issueDiagnostics(issue: z.core.$ZodIssue, loc: SourceLocator): Diagnostic[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => {
      const pos = loc.locateKey(path, key);
      const field = formatFieldPath([...path, key]);
      return { file: loc.file, ...pos, severity: 'error' as const, field, message: `${field}: unknown key "${key}"${didYouMean(key, allowed)}` };
    });
  }
  const missing = !loc.locate(path).exists;
  if (missing && issue.code === 'invalid_type') return [diagnosticAt(loc, path, `missing required field (expected ${issue.expected})`)];
  return [diagnosticAt(loc, path, issue.message.replace(/^Invalid input: /, ''))];
}

function yamlErrorDiagnostic(file: string, e: YAMLError, severity: Diagnostic['severity']): Diagnostic {
  const pos = e.linePos?.[0];
  const firstLine = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
  return { file, line: pos?.line ?? 1, column: pos?.col ?? 1, severity, message: `YAML: ${firstLine}` };
}

// "{question" with no "}" before the next space or brace: almost always a typo for a slot
const UNCLOSED_SLOT = /(?<!\{)\{[A-Za-z_][A-Za-z0-9_.|-]*\??(?=$|[^A-Za-z0-9_.|?}-])/;

/** Checks the schema cannot express: unique condition names, unused turns, {choices} in a generation task. */
/** an intervention names one of the experiment's probes; a sweep's names do not collide; ablation takes no alpha list */
function interventionDiagnostics(exp: Experiment, i: number, loc: SourceLocator, seen: Map<string, number>): Diagnostic[] {
  const iv = exp.conditions[i]!.intervention;
  if (!iv) return [];
  const out: Diagnostic[] = [];
  const at = (...rest: FieldPath) => ['conditions', i, 'intervention', ...rest];
  if (!exp.probes.some((p) => p.name === iv.probe)) {
    const names = exp.probes.map((p) => p.name);
    out.push(diagnosticAt(loc, at('probe'), `no probe named "${iv.probe}" in this experiment's probes${names.length ? ` (${names.join(', ')})` : ' (add it under probes: with its file)'}`));
  }
  const [lo, hi] = iv.layers.split('-').map((s) => Number(s.trim()));
  if (hi !== undefined && hi < lo!) out.push(diagnosticAt(loc, at('layers'), `band ${iv.layers} is reversed`));
  if (lo === 0) out.push(diagnosticAt(loc, at('layers'), 'layer 0 is the embeddings; steerable layers start at 1 (the output of decoder layer 1)'));
  if (Array.isArray(iv.alpha)) {
    if (iv.ablate) out.push(diagnosticAt(loc, at('alpha'), 'an ablation has no strength: drop the alpha list or ablate'));
    const names = iv.alpha.map((a) => sweepConditionName(exp.conditions[i]!.name, a));
    names.forEach((n, k) => {
      if (names.indexOf(n) !== k) out.push(diagnosticAt(loc, at('alpha', k), `alpha ${(iv.alpha as number[])[k]} appears twice in the sweep`));
      else if (seen.has(n)) out.push(diagnosticAt(loc, at('alpha', k), `the sweep's condition "${n}" collides with conditions[${seen.get(n)}]`));
    });
  }
  return out;
}

function semanticDiagnostics(exp: Experiment, loc: SourceLocator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  exp.conditions.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) out.push(diagnosticAt(loc, ['conditions', i, 'name'], `duplicate condition name "${c.name}" (also conditions[${first}])`));
    else seen.set(c.name, i);
    out.push(...interventionDiagnostics(exp, i, loc, seen));
    if (c.turns.length > c.rounds) {
      out.push(diagnosticAt(loc, ['conditions', i, 'turns', c.rounds], `${c.turns.length - c.rounds} turn(s) beyond rounds: ${c.rounds} are never used`, 'warning'));
    }
    c.turns.forEach((t, j) => {
      for (const part of ['user', 'prefill'] as const) {
        const unclosed = UNCLOSED_SLOT.exec(t[part]);
        if (unclosed !== null) {
          out.push(diagnosticAt(loc, ['conditions', i, 'turns', j, part], `"${unclosed[0]}" looks like a template slot without its closing "}"; it is sent as written`, 'warning'));
        }
        const usesChoices = templateSlots(t[part]).some((s) => s.names.length === 1 && s.names[0] === CHOICES_SLOT && !s.optional);
        if (usesChoices && exp.task === 'generation') {
          out.push(diagnosticAt(loc, ['conditions', i, 'turns', j, part], '{choices} needs a multiple-choice task (task: mcq)'));
        }
      }
    });
  });
  return out;
}

/**
 * Parse and check an experiment file's text. All problems are reported at once, each with file:line:column and the
 * field path. `experiment` is present when there are no errors (warnings allowed). A relative dataset path is
 * resolved against the folder of `file`.
 */
export function parseExperimentYaml(text: string, file: string): { experiment?: Experiment; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true });
  const diagnostics: Diagnostic[] = [
    ...doc.errors.map((e) => yamlErrorDiagnostic(file, e, 'error')),
    ...doc.warnings.map((e) => yamlErrorDiagnostic(file, e, 'warning')),
  ];
  if (doc.errors.length > 0) return { diagnostics };
  const loc = yamlLocator(file, doc, lines);
  if (doc.contents === null) {
    diagnostics.push({ file, line: 1, column: 1, severity: 'error', message: 'the file is empty: an experiment needs at least dataset, task and conditions' });
    return { diagnostics };
  }
  const result = StrictExperimentSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!result.success) {
    diagnostics.push(...result.error.issues.flatMap((issue) => issueDiagnostics(issue, loc)));
    return { diagnostics: sortDiagnostics(diagnostics) };
  }
  diagnostics.push(...semanticDiagnostics(result.data, loc));
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics: sortDiagnostics(diagnostics) };
  const swept = expandSweeps(result.data);
  const experiment: Experiment = swept.experiment;
  if (!isAbsolute(experiment.dataset.path)) experiment.dataset.path = resolve(dirname(file), experiment.dataset.path);
  sources.set(experiment, sweptLocator(loc, swept.origin));
  return { experiment, diagnostics: sortDiagnostics(diagnostics) };
}

function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.column - b.column);
}

const HEADER = [
  ' Self-Correction Lab experiment (schema sclab.experiment/1).',
  ' Template slots: {field} is an item field ({context}, {question}, {sentence}, {prompt}, …), {choices} the',
  ' options as "(a) X (b) Y (c) Z", {field?} may be missing, {a|b} takes the first present field.',
  ' Round r of a condition uses turns[min(r, last)]; earlier rounds are carried as conversation history.',
].join('\n');

/**
 * An experiment as YAML, every setting written out so it can be read and edited (start from a preset, change it,
 * run it). Parsing the result gives the same experiment back.
 */
export function experimentToYaml(exp: Experiment): string {
  const ordered = {
    schema: exp.schema,
    name: exp.name,
    ...(exp.preset !== undefined ? { preset: exp.preset } : {}),
    dataset: exp.dataset,
    task: exp.task,
    decoding: exp.decoding,
    conversation: exp.conversation,
    answerParsing: exp.answerParsing,
    ...(exp.backend !== undefined ? { backend: exp.backend } : {}),
    preamble: exp.preamble,
    // name, kind and rounds before the long turn texts, so a reader sees the shape first
    conditions: exp.conditions.map((c) => ({
      name: c.name,
      kind: c.kind,
      rounds: c.rounds,
      ...(c.description !== undefined ? { description: c.description } : {}),
      turns: c.turns.map((t) => ({ user: t.user, prefill: t.prefill })),
      ...(c.intervention !== undefined ? { intervention: c.intervention } : {}),
    })),
    scorers: exp.scorers,
    probes: exp.probes,
  };
  const doc = new Document(ordered);
  doc.commentBefore = HEADER;
  commentKeys(doc, KEY_COMMENTS);
  if (exp.dataset.limit === undefined) commentKeys(doc, { 'dataset.path': ' relative paths are relative to this file\'s folder' }, { 'dataset': ' limit: 10        # uncomment for a quick first run on the first ten items' });
  return doc.toString({ lineWidth: 0, blockQuote: 'literal' });
}

/** Why each top-level setting is there, written above its key (editors show the schema's docs on hover too). */
const KEY_COMMENTS: Record<string, string> = {
  schema: ' Check and complete this file in VS Code with the YAML extension (redhat.vscode-yaml): the\n Self-Correction Lab extension gives it the schema of *.sclab.yaml files.',
  dataset: ' The items: path, format (auto = detect), filter {field: [values]} and limit.',
  task: ' mcq: the gold option is ranked and the answer parsed; generation: responses are scored (see scorers).',
  decoding: ' Greedy decoding as in the paper; maxTokens bounds each answer.',
  conversation: ' chat: real multi-turn messages, the prefill starts the assistant turn; raw: one concatenated prompt per round.',
  answerParsing: ' paper: correct when the gold label, e.g. "(b)", occurs in the lower-cased answer; first-option: only the first label counts.',
  conditions: ' baseline is the reference; self-correct repeats the review turn for `rounds` rounds; control and variant are compared with both.',
  scorers: ' Response scorers, e.g. [{ name: toxicity, kind: offline, model: toxicity.scorer.json }].',
  probes: ' Linear probes on hidden states, e.g. [{ name: morality, path: morality.probe.json }] (needs a backend with hiddenStates).',
};

/** Puts `before` comments above keys (dotted paths) and `after` comments below maps, by key path. */
function commentKeys(doc: Document, before: Record<string, string>, after: Record<string, string> = {}): void {
  for (const [keyPath, text] of Object.entries(before)) {
    const parts = keyPath.split('.');
    const parent = parts.length > 1 ? doc.getIn(parts.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === parts[parts.length - 1]);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = text;
  }
  for (const [keyPath, text] of Object.entries(after)) {
    const node = doc.getIn(keyPath.split('.'), true);
    if (isMap(node)) node.comment = text;
  }
}
