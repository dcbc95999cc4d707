// Entry point of the dataset worker thread (bundled to dist/dataset-worker.js): validates one file off the main
// thread, so that a huge or hostile file never blocks the VS Code extension host.
import { parentPort, workerData } from 'node:worker_threads';
import { validateDataset } from './index';
import type { RequestedFormat } from './types';

const port = parentPort;
if (!port) throw new Error('dataset-worker.js must run as a worker thread');
const { file, format } = workerData as { file: string; format?: RequestedFormat };
validateDataset(file, format ? { format } : {}).then(
  (report) => port.postMessage({ report }),
  (e: unknown) => port.postMessage({ error: { message: e instanceof Error ? e.message : String(e), code: (e as { code?: unknown }).code } }),
);
