// POST /v1/probe_scores: probes scored next to the model, so only numbers cross the network. One forward pass per
// (module, convention) the probes need; each probe is scored by the probes module's own scoreHiddenStates.
import type { HiddenConvention, HiddenModule } from '../backends/backend';
import { isSclabError } from '../model/errors';
import { parseProbe, type LoadedProbe } from '../probes/probe';
import { scoreHiddenStates } from '../probes/score';
import type { ModelIdentity } from '../engine/types';
import { toWireModule, type ProbeScoresWireResponse, type SidecarInput } from './protocol';
import type { ServedModel } from './provider';
import { WireError } from './wire-error';

type ProbeRef = { id: string } | { name?: string; probe: Record<string, unknown> };

/** Each ref as a loaded probe with the name the answer uses; inline files are checked against the served model. */
export function resolveProbes(refs: ProbeRef[], known: ReadonlyMap<string, LoadedProbe>, identity: ModelIdentity | undefined): Array<{ name: string; probe: LoadedProbe }> {
  return refs.map((ref, i) => {
    if ('id' in ref) {
      const probe = known.get(ref.id);
      if (!probe) throw new WireError('not_found', `probes[${i}]: no probe with id "${ref.id}" on this server (known: ${[...known.keys()].join(', ') || 'none'})`);
      return { name: ref.id, probe };
    }
    const name = ref.name ?? `probes[${i}]`;
    try {
      return { name, probe: parseProbe(ref.probe, `probes[${i}] (${name})`, identity) };
    } catch (e) {
      throw isSclabError(e) ? new WireError('bad_request', e.message) : e;
    }
  });
}

export async function scoreProbes(
  { provider, model }: ServedModel,
  input: SidecarInput,
  probes: Array<{ name: string; probe: LoadedProbe }>,
  signal?: AbortSignal,
): Promise<ProbeScoresWireResponse> {
  // layers each (module, convention) needs, so one forward serves every probe reading it
  const needs = new Map<string, { module: HiddenModule; convention: HiddenConvention; layers: Set<number> }>();
  for (const { probe } of probes) {
    const key = `${probe.file.module}/${probe.file.convention}`;
    const need = needs.get(key) ?? { module: probe.file.module, convention: probe.file.convention, layers: new Set<number>() };
    for (const l of probe.layers) need.layers.add(l.layer);
    needs.set(key, need);
  }
  const states = new Map<string, Map<number, Float32Array>>();
  for (const [key, need] of needs) {
    const layers = [...need.layers].sort((a, b) => a - b);
    const h = await provider.hiddenStates(input, { layers, position: 'last', module: need.module, convention: need.convention }, signal);
    states.set(key, new Map(h.layers.map((l, i) => [l, h.vectors[i]!])));
  }
  return {
    protocol: 'sclab.sidecar/1',
    model,
    scores: probes.map(({ name, probe }) => {
      const s = scoreHiddenStates(probe, states.get(`${probe.file.module}/${probe.file.convention}`)!);
      return {
        probe: name,
        module: toWireModule(s.module),
        position: 'last' as const,
        convention: probe.file.convention,
        layer_ids: s.layers,
        cosine: s.cosine,
        ...(s.probability ? { probability: s.probability } : {}),
      };
    }),
  };
}
