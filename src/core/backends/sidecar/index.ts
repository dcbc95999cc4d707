export { createSidecarBackend } from './sidecar-backend';
export type { SidecarBackend, SidecarBackendOptions } from './sidecar-backend';
