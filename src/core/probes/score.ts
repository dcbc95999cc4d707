// Probe scores of hidden states: the pure computation the run-time extension, analysis and a sidecar share.
import type { HiddenModule } from '../backends/backend';
import { SclabError } from '../model/errors';
import type { ProbeScores } from '../model/record';
import type { LoadedProbe } from './probe';
import { dot, norm, sigmoid } from './vectors';

/**
 * Scores last-token hidden states (layer → vector, raw space as the backend returns them) with a probe: the cosine
 * to the probe's vector at every probe layer and, for logistic probes, sigmoid(w·h + b). A layer with no vector
 * (e.g. the embeddings entry when a residual probe is read at the attention output) scores null, visibly.
 */
export function scoreHiddenStates(probe: LoadedProbe, vectors: ReadonlyMap<number, ArrayLike<number>>, module: HiddenModule = probe.file.module): ProbeScores {
  const cos: Array<number | null> = [];
  const prob: Array<number | null> = [];
  for (const l of probe.layers) {
    const h = vectors.get(l.layer);
    if (!h) {
      cos.push(null);
      prob.push(null);
      continue;
    }
    if (h.length !== l.weights.length) {
      throw new SclabError('malformed_response', `${probe.source}: the hidden state at layer ${l.layer} has ${h.length} numbers, the probe has ${l.weights.length}`);
    }
    const d = dot(l.weights, h);
    const nh = norm(h);
    cos.push(nh === 0 || l.norm === 0 ? null : d / (nh * l.norm));
    prob.push(l.bias === null ? null : sigmoid(d + l.bias));
  }
  const scores: ProbeScores = {
    module,
    position: 'last',
    layers: probe.layers.map((l) => l.layer),
    cosine: cos,
    band: [probe.file.band[0], probe.file.band[1]],
    moralDirection: probe.file.moralDirection,
  };
  if (probe.file.kind === 'logistic') scores.probability = prob;
  return scores;
}
