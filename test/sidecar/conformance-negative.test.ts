// The conformance suite can fail: servers with planted faults are caught by the check that covers each fault.
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/core/engine/client';
import { createEngineProvider } from '../../src/core/sidecar/engine-provider';
import type { SidecarProvider } from '../../src/core/sidecar/provider';
import { startSidecarServer, type SidecarServer } from '../../src/core/sidecar/server';
import { conformanceChecks } from './conformance';
import { STORIES_SPEC } from './fixtures';

let server: SidecarServer | undefined;
let provider: SidecarProvider | undefined;
afterEach(async () => {
  await server?.close();
  await provider?.close();
  server = provider = undefined;
});

async function faulty(plant: (p: SidecarProvider) => SidecarProvider): Promise<ReturnType<typeof conformanceChecks>> {
  provider = createEngineProvider({ client: await EngineClient.start({ modelSpec: STORIES_SPEC, mode: 'in-process' }), implementation: 'faulty' });
  server = await startSidecarServer({ provider: plant(provider) });
  return conformanceChecks({ url: server.url });
}

const run = async (suite: ReturnType<typeof conformanceChecks>, name: string): Promise<unknown> => {
  try {
    return await suite.checks.find((c) => c.name.startsWith(name))!.run();
  } finally {
    suite.close();
  }
};

describe('conformance suite against faulty servers', () => {
  it('catches "mean" answered with the last token', async () => {
    const suite = await faulty((p) => ({ ...p, hiddenStates: (input, q, s) => p.hiddenStates(input, { ...q, position: q.position === 'mean' ? 'last' : q.position }, s) }));
    await expect(run(suite, 'hidden_states: position "all"')).rejects.toThrow('"mean" is not the mean');
  });

  it('catches a layer list answered in another order', async () => {
    const suite = await faulty((p) => ({
      ...p,
      hiddenStates: async (input, q, s) => {
        const h = await p.hiddenStates(input, q, s);
        return { ...h, vectors: [...h.vectors].reverse() };
      },
    }));
    await expect(run(suite, 'hidden_states: a layer list')).rejects.toThrow(/layer \d+ differs/);
  });

  it('catches log-probabilities that do not add up', async () => {
    const suite = await faulty((p) => ({
      ...p,
      loglikelihood: async (input, conts, s) => (await p.loglikelihood!(input, conts, s)).map((r) => ({ ...r, sum: r.sum - 0.5 })),
    }));
    await expect(run(suite, 'loglikelihood')).rejects.toThrow('sum ≠ the sum of logprobs');
  });
});
