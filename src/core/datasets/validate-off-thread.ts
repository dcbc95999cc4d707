// `validateDataset` in a worker thread: the caller's event loop stays free however large the file (the extension
// host must never block). Cancelling terminates the worker.
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { cancelledError, ERROR_CODES, SclabError} from '../model/errors';
import type { RequestedFormat, ValidationReport } from './types';

export function defaultDatasetWorkerPath(): string {
  // in the bundles (dist/extension-core.js, dist/cli.js) __dirname is dist/, where esbuild puts dataset-worker.js
  return path.join(typeof __dirname === 'string' ? __dirname : process.cwd(), 'dataset-worker.js');
}

export function validateDatasetOffThread(file: string, opts: { format?: RequestedFormat; signal?: AbortSignal; workerPath?: string } = {}): Promise<ValidationReport> {
  const workerPath = opts.workerPath ?? defaultDatasetWorkerPath();
  if (!existsSync(workerPath)) return Promise.reject(new SclabError('internal', `dataset worker ${workerPath} not found; build it with \`node esbuild.mjs\``));
  if (opts.signal?.aborted) return Promise.reject(cancelledError());
  return new Promise<ValidationReport>((resolve, reject) => {
    const worker = new Worker(workerPath, { workerData: { file, ...(opts.format ? { format: opts.format } : {}) } });
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    const onAbort = (): void => settle(() => reject(cancelledError()));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: { report?: ValidationReport; error?: { message: string; code?: unknown } }) => {
      if (m.report) settle(() => resolve(m.report!));
      else {
        const code = ERROR_CODES.find((c) => c === m.error?.code) ?? 'internal';
        settle(() => reject(new SclabError(code, m.error?.message ?? 'validation failed')));
      }
    });
    worker.on('error', (e) => settle(() => reject(new SclabError('internal', `dataset worker failed: ${e.message}`))));
    worker.on('exit', (code) => settle(() => reject(new SclabError('internal', `dataset worker exited (code ${code}) before answering`))));
  });
}
