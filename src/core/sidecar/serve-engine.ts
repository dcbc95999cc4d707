// The embedded engine served through the sidecar protocol and the OpenAI-compatible routes: `sclab serve`.
import { EngineClient } from '../engine/client';
import type { ModelSpec } from '../engine/load-local';
import type { LoadedProbe } from '../probes/probe';
import { TOOL_VERSION } from '../version';
import { createEngineProvider } from './engine-provider';
import { startSidecarServer, type SidecarLimits, type SidecarServer } from './server';

export interface ServeEngineOptions {
  modelSpec: ModelSpec;
  /** the model name clients must use (default: the engine's name for it) */
  modelName?: string;
  host?: string;
  port?: number;
  token?: string;
  limits?: Partial<SidecarLimits>;
  probes?: ReadonlyMap<string, LoadedProbe>;
  /** engine placement, as EngineClient takes it (tests: 'in-process') */
  mode?: 'worker' | 'in-process' | 'auto';
  workerPath?: string;
  log?: (line: string) => void;
}

export async function serveEngine(opts: ServeEngineOptions): Promise<SidecarServer> {
  const client = await EngineClient.start({ modelSpec: opts.modelSpec, ...(opts.mode ? { mode: opts.mode } : {}), ...(opts.workerPath ? { workerPath: opts.workerPath } : {}) });
  const provider = createEngineProvider({ client, implementation: `sclab serve ${TOOL_VERSION}`, ...(opts.modelName ? { modelName: opts.modelName } : {}) });
  try {
    const server = await startSidecarServer({
      provider,
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.probes ? { probes: opts.probes } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    return {
      ...server,
      close: async () => {
        await server.close();
        await provider.close();
      },
    };
  } catch (e) {
    await provider.close();
    throw e;
  }
}
