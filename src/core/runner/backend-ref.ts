import * as path from 'node:path';
import type { BackendRef } from '../model/experiment';
import type { RunManifest } from '../model/manifest';

/** The backend a run used, rebuilt from its manifest (which never holds a secret); the key's name may be given anew. */
export function backendRefFromManifest(m: RunManifest, apiKeyEnv?: string): BackendRef {
  const recorded = m.experiment.backend;
  const kind = recorded?.kind ?? m.backend.kind;
  const model = recorded?.model ?? m.backend.model;
  const baseUrl = recorded?.baseUrl ?? m.backend.baseUrl;
  const keyEnv = apiKeyEnv ?? recorded?.apiKeyEnv;
  return { kind, ...(model ? { model } : {}), ...(baseUrl ? { baseUrl } : {}), ...(keyEnv ? { apiKeyEnv: keyEnv } : {}) };
}

/** The response cache lies beside the runs folder, shared by every run in it (one rule for every host). */
export function responseCacheDir(runsFolder: string): string {
  return path.join(path.dirname(path.resolve(runsFolder)), 'cache');
}
