// Entry point of the engine worker thread (bundled to dist/engine-worker.js): loads the model named in workerData,
// then answers requests one at a time. The client never sends a second request before the first one's answer.
// In a pool the first worker loads the weights and hands their descriptor back; the others read them in place.
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { engineInfo, handleRequest, hostModel } from './host';
import { arenaMemoryOf, configureKernels, HalfMatrix } from './kernels-wasm';
import { loadLocalModel } from './load-local';
import { MatmulTeam } from './matmul-team';
import { type ClientMessage, serializeError, type WorkerInit, type WorkerMessage } from './protocol';
import { shareWeights } from './shared-weights';
import type { LoadedModel } from './types';

const port = parentPort;
if (!port) throw new Error('engine-worker.js must run as a worker thread');
const init = workerData as WorkerInit;
const abortFlag = new Int32Array(init.abortFlag);
const isAborted = (): boolean => Atomics.load(abortFlag, 0) !== 0;
const post = (m: WorkerMessage): void => port.postMessage(m);

// before anything allocates a kernel arena; a pool's further workers read the first one's weights with its kernels
const loaded = Promise.resolve()
  .then(() => configureKernels({ fma: init.fma ?? 'auto' }))
  .then(() => loadLocalModel(init.modelSpec, init.shared))
  .then(async (model) => {
    await startMatmulTeam(model);
    return model;
  });
loaded.then(
  (model) => {
    const hosted = hostModel(model, init.prefixCache);
    port.on('message', (msg: ClientMessage) => {
      if (msg.type !== 'request') return;
      const onToken = (token: { id: number; text: string }): void => post({ type: 'token', id: msg.id, token });
      handleRequest(hosted, msg.request, { isAborted, onToken }).then(
        (result) => post({ type: 'result', id: msg.id, result }),
        (e: unknown) => post({ type: 'error', id: msg.id, error: serializeError(e) }),
      );
    });
    post({ type: 'ready', info: engineInfo(model), ...(init.share ? { shared: shareWeights(model.weights, model.identity) } : {}) });
  },
  (e: unknown) => post({ type: 'load-error', error: serializeError(e) }),
);

/** the split-matmul alternative to a pool, when asked for: helpers beside this bundle (engine-matmul-helper.js) */
async function startMatmulTeam(model: LoadedModel): Promise<void> {
  const threads = init.matmulThreads ?? 1;
  if (threads <= 1) return;
  const first = model.weights.tokenEmbedding;
  const memory = arenaMemoryOf(first instanceof HalfMatrix ? first.bits : first);
  if (memory) await MatmulTeam.start(memory, threads, path.join(__dirname, 'engine-matmul-helper.js'));
}
