// The core as the extension host uses it, bundled separately (dist/extension-core.js) and loaded on first use:
// the host bundle stays small, so activation does not pay for parsing the whole core.
export { createOpenAIBackend } from '../core/backends/openai';
export { createEmbeddedBackend } from '../core/backends/embedded';
export { resolveModel, defaultCacheDir } from '../core/engine/resolve';
export { lockHolder, readItems, readManifest, readRecords, writeFileAtomic } from '../core/runner/store';
export { recordsToCsv } from '../core/report/csv';
export { analyzeRun } from '../core/analysis/analyze';
export { renderHtmlReport } from '../core/report/html';
export { createViewerService } from '../core/viewer/service';
export { renderViewerHtml } from '../core/viewer/html';
export { safeParseAppMessage } from '../core/viewer/protocol';
export { PRESET_NAMES } from '../core/protocol';
export { prepareExperiment } from '../core/runner/prepare';
export { startRun, resumeRun, checkDatasetUnchanged } from '../core/runner/run';
export { publicUrlOf } from '../core/runner/public-experiment';
export { loadDataset, applyFilter, validateDataset } from '../core/datasets';
export { validateDatasetOffThread } from '../core/datasets/validate-off-thread';
export { itemOutcomes } from './item-outcomes';
export { EngineClient } from '../core/engine/client';
export { trainProbe } from '../core/probes/train';
export { writeProbeFile } from '../core/probes/load';
export { roundExtensionsFor } from '../core/runner/round-extensions';
export { writeNewExperiment } from '../core/runner/new-experiment';
export { parseExperimentYaml } from '../core/protocol/experimentYaml';
