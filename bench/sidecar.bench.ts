// Hidden states over the wire: 32 layers × 4096 floats per prompt (a 7B model's residual stream at the last
// token), 100 prompts, JSON arrays vs base64-f32, through the real sidecar server and client (node:http on
// loopback). The vectors are synthetic (a provider that returns fixed pseudo-random floats): a random-weight model
// of that width is far too slow on a CPU, and the forward pass is not what is measured — encoding, transfer and
// decoding are. Run: node esbuild.mjs && node dist/bench/sidecar.bench.js
import type { HiddenStatesResult } from '../src/core/backends/backend';
import { createSidecarClient } from '../src/core/sidecar/client';
import type { HiddenQuery, SidecarProvider } from '../src/core/sidecar/provider';
import { startSidecarServer } from '../src/core/sidecar/server';

const N_LAYERS = 32;
const D = 4096;
const PROMPTS = 100;

function syntheticProvider(): SidecarProvider {
  // float32 values of a typical spread (|x| up to ~10, full mantissa): what a real residual stream looks like in JSON
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const vectors = Array.from({ length: N_LAYERS + 1 }, () => Float32Array.from({ length: D }, () => rnd() * 10 * Math.abs(rnd())));
  return {
    info: async () => ({ model: 'synthetic-32x4096', nLayers: N_LAYERS, dModel: D, implementation: 'sidecar bench (synthetic vectors)' }),
    hiddenStates: async (_input, q: HiddenQuery): Promise<HiddenStatesResult> => {
      const layers = q.layers === 'all' ? Array.from({ length: N_LAYERS + 1 }, (_, i) => i) : q.layers;
      return { module: q.module, position: q.position, convention: q.convention, layers, vectors: layers.map((l) => vectors[l]!), dim: D, nTokens: 24 };
    },
    close: async () => {},
  };
}

async function main(): Promise<void> {
  const server = await startSidecarServer({ provider: syntheticProvider(), limits: { maxBodyBytes: 1 << 20, maxPromptChars: 10_000 } });
  const client = createSidecarClient({ url: server.url, timeoutMs: 120_000 });
  const layers = Array.from({ length: N_LAYERS }, (_, i) => i + 1);
  const rows: string[] = [];
  const results: Record<string, { bytes: number; ms: number }> = {};
  for (const encoding of ['json', 'base64-f32', 'json', 'base64-f32'] as const) {
    let bytes = 0;
    let floats = 0;
    const t0 = performance.now();
    for (let p = 0; p < PROMPTS; p++) {
      const h = await client.hiddenStates({ prompt: `prompt ${p}: Once upon a time`, layers, encoding });
      bytes += h.bytes;
      floats += h.vectors.reduce((n, v) => n + v.length, 0);
    }
    const ms = performance.now() - t0;
    if (floats !== PROMPTS * N_LAYERS * D) throw new Error(`got ${floats} floats`);
    results[encoding] = { bytes, ms }; // the second round of each (warm) is kept
  }
  for (const [encoding, { bytes, ms }] of Object.entries(results)) {
    rows.push(
      `${encoding.padEnd(11)} ${(bytes / 1e6).toFixed(1).padStart(8)} MB  ${(bytes / (PROMPTS * N_LAYERS * D)).toFixed(2).padStart(6)} B/float  ` +
        `${(ms / 1000).toFixed(2).padStart(6)} s  ${(ms / PROMPTS).toFixed(1).padStart(6)} ms/prompt  ${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(5)} MB/s`,
    );
  }
  const j = results.json!;
  const b = results['base64-f32']!;
  process.stdout.write(
    `sidecar hidden states: ${PROMPTS} prompts × ${N_LAYERS} layers × ${D} floats (synthetic vectors, real server + client over loopback, sequential)\n` +
      `${rows.join('\n')}\n` +
      `base64-f32: ${(j.bytes / b.bytes).toFixed(2)}× fewer bytes, ${(j.ms / b.ms).toFixed(1)}× faster than JSON\n`,
  );
  client.close();
  await server.close();
}

void main();
