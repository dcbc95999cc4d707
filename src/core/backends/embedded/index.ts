export { createEmbeddedBackend, engineWorkersFor } from './embedded-backend';
export type { EmbeddedBackend, EmbeddedBackendOptions, HiddenStatesRequest, HiddenStatesResult } from './embedded-backend';
