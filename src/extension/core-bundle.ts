// The core as the extension host uses it, bundled separately (dist/extension-core.js) and loaded on first use:
// the host bundle stays small, so activation does not pay for parsing the whole core.
export { createOpenAIBackend } from '../core/backends/openai';
export { createEmbeddedBackend, engineWorkersFor } from '../core/backends/embedded';
export { createSidecarBackend } from '../core/backends/sidecar';
export { resolveModel, modelCacheSettings } from '../core/engine/resolve';
export { lockHolder, readItems, readManifest, readRecords, writeFileAtomic } from '../core/runner/store';
export { readAnalysisRecords } from '../core/runner/analysis-records';
export { recordsToCsv } from '../core/report/csv';
export { analyzeRun } from '../core/analysis/analyze';
export { renderHtmlReport } from '../core/report/html';
export { createViewerService, writeViewerCache } from '../core/viewer/service';
export { renderViewerHtml } from '../core/viewer/html';
export { safeParseAppMessage } from '../core/viewer/protocol';
export { PRESET_NAMES } from '../core/protocol';
export { runSession, backendRefFromManifest } from '../core/runner/session';
export { publicUrlOf } from '../core/runner/public-experiment';
export { validateDataset } from '../core/datasets';
export { validateDatasetOffThread } from '../core/datasets/validate-off-thread';
export { itemOutcomes } from './item-outcomes';
export { EngineClient } from '../core/engine/client';
export { trainProbe } from '../core/probes/train';
export { writeProbeFile } from '../core/probes/load';
export { writeNewExperiment } from '../core/runner/new-experiment';
export { parseExperimentYaml } from '../core/protocol/experimentYaml';
