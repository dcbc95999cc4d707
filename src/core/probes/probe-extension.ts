// The run-time probe extension: before each round's answer is generated, read the hidden states of the full round
// input (history, this round's user turn, the assistant prefill) at its last token and score every configured probe
// on them. One hiddenStates request per module serves every probe on that module.
import * as path from 'node:path';
import type { HiddenModule, Steering } from '../backends/backend';
import { SclabError } from '../model/errors';
import type { Condition, ProbeRef } from '../model/experiment';
import type { BackendDescription } from '../model/manifest';
import type { ProbeScores } from '../model/record';
import type { RecordExtras, RoundContext, RoundExtension } from '../runner/extensions';
import { loadProbeFile } from './load';
import type { LoadedProbe } from './probe';
import { scoreHiddenStates } from './score';
import { interventionFromProbe, parseLayerBand } from './steer';

interface ActiveProbe {
  name: string;
  probe: LoadedProbe;
  module: HiddenModule;
}

const firstLayer = (m: HiddenModule): number => (m === 'residual' ? 0 : 1);

/**
 * Loads and checks the experiment's probes; undefined when there are none. Throws SclabError 'config' when the
 * backend cannot give hidden states, does not say which model it runs, or runs another model than a probe's.
 */
export async function createProbeExtension(
  refs: ProbeRef[],
  opts: { baseDir: string; description: BackendDescription; conditions?: readonly Condition[] },
): Promise<RoundExtension | undefined> {
  if (refs.length === 0) return undefined;
  const d = opts.description;
  if (!d.capabilities.hiddenStates) {
    throw new SclabError('config', `probes ${refs.map((r) => r.name).join(', ')} need hidden states, which the ${d.kind} backend (${d.model}) cannot give; use the embedded backend or remove the probes`);
  }
  if (!d.identity) {
    throw new SclabError('config', `the ${d.kind} backend (${d.model}) does not report its model's identity (layers, width, weights hash), so probe files cannot be checked against it`);
  }
  const names = new Set<string>();
  const active: ActiveProbe[] = [];
  for (const ref of refs) {
    if (names.has(ref.name)) throw new SclabError('config', `probe name "${ref.name}" is used twice`);
    names.add(ref.name);
    const probe = await loadProbeFile(path.resolve(opts.baseDir, ref.path), d.identity);
    const module = ref.module ?? probe.file.module;
    const layers = probe.layers.map((l) => l.layer);
    if (ref.band) {
      const [a, b] = ref.band;
      if (a > b || a < Math.min(...layers) || b > Math.max(...layers)) {
        throw new SclabError('config', `probe "${ref.name}": band ${a}-${b} must be an ascending range within the probe's layers ${Math.min(...layers)}…${Math.max(...layers)}`);
      }
    }
    if (!layers.some((l) => l >= firstLayer(module))) throw new SclabError('config', `probe "${ref.name}": none of its layers exists at the ${module} output`);
    active.push({ name: ref.name, probe, module });
  }
  // one request per module (and convention: probes trained on HF-convention states read those)
  const byModule = new Map<string, ActiveProbe[]>();
  for (const a of active) {
    const key = `${a.module}/${a.probe.file.convention}`;
    byModule.set(key, [...(byModule.get(key) ?? []), a]);
  }

  const steering = steeringFor(opts.conditions ?? [], active, d);
  return {
    name: 'probes',
    steering,
    async beforeChat(ctx: RoundContext): Promise<RecordExtras> {
      const hidden = ctx.backend.hiddenStates;
      if (!hidden) throw new SclabError('config', `the ${ctx.backend.kind} backend has no hiddenStates method`);
      const probes: Record<string, ProbeScores> = {};
      for (const group of byModule.values()) {
        const module = group[0]!.module;
        // every layer any probe on this module reads; a residual probe's embeddings entry has no attn/mlp twin
        const layers = [...new Set(group.flatMap((a) => a.probe.layers.map((l) => l.layer)))].filter((l) => l >= firstLayer(module)).sort((a, b) => a - b);
        const convention = group[0]!.probe.file.convention;
        const res = await hidden.call(ctx.backend, { messages: ctx.messages, prefill: ctx.prefill, position: 'last', module, layers, convention, ...(ctx.steer ? { steer: ctx.steer } : {}) }, ctx.signal);
        if (res.vectors.length !== res.layers.length) throw new SclabError('malformed_response', `hiddenStates returned ${res.vectors.length} vectors for ${res.layers.length} layers`);
        const vectors = new Map(res.layers.map((l, i) => [l, res.vectors[i]!] as const));
        for (const a of group) probes[a.name] = scoreHiddenStates(a.probe, vectors, module);
      }
      return { probes };
    },
  };
}

/** Each steered condition's intervention: its probe's directions over its band (needs the backend's steer capability). */
function steeringFor(conditions: readonly Condition[], active: readonly ActiveProbe[], d: BackendDescription): Map<string, Steering> {
  const out = new Map<string, Steering>();
  for (const c of conditions) {
    const iv = c.intervention;
    if (!iv) continue;
    const where = `condition "${c.name}": intervention`;
    if (!d.capabilities.steer) throw new SclabError('config', `${where}: the ${d.kind} backend (${d.model}) cannot steer its forward pass; use the embedded backend or a sidecar with the steer capability`);
    const a = active.find((x) => x.name === iv.probe);
    if (!a) throw new SclabError('config', `${where}.probe: no probe named "${iv.probe}" (${active.map((x) => x.name).join(', ')})`);
    if (typeof iv.alpha !== 'number') throw new SclabError('config', `${where}.alpha: a sweep must be expanded into one condition per value before a run (parse the experiment file)`);
    const spec = interventionFromProbe(a.probe, { layers: parseLayerBand(iv.layers, `${where}.layers`), alpha: iv.alpha, ablate: iv.ablate });
    out.set(c.name, { intervention: spec, positions: iv.positions });
  }
  return out;
}
