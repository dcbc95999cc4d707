// Entry point of a matmul helper thread (bundled to dist/engine-matmul-helper.js; see matmul-team.ts): attaches to
// a model's kernel memory, then computes its band of output columns of each matmul the team publishes.
import { parentPort, workerData } from 'node:worker_threads';
import { attachKernelArena } from './kernels-wasm';
import { bandStart, CTL, KINDS, type HelperInit } from './matmul-team';
import { matmulColumns } from './kernels-wasm';

const init = workerData as HelperInit;
const arena = attachKernelArena(init.memory);
const ctl = new Int32Array(init.memory.buffer, init.control, CTL.words);
const words = new Uint32Array(init.memory.buffer, init.control, CTL.words);
// the generation seen is read before saying ready: read after, a task published in between (the caller starts as
// soon as it hears ready) was taken for the one already seen, and the caller waited for it forever
let seen = Atomics.load(ctl, CTL.generation);
parentPort?.postMessage('ready');
for (;;) {
  for (let spin = 0; spin < 2000 && Atomics.load(ctl, CTL.generation) === seen; spin++);
  if (Atomics.load(ctl, CTL.generation) === seen) Atomics.wait(ctl, CTL.generation, seen);
  seen = Atomics.load(ctl, CTL.generation);
  if (Atomics.load(ctl, CTL.stop) !== 0) break;
  const outDim = words[CTL.outDim]!;
  const task = { kind: KINDS[words[CTL.kind]!]!, op: words[CTL.op]!, xp: words[CTL.xp]!, wp: words[CTL.wp]!, rows: words[CTL.rows]!, inDim: words[CTL.inDim]!, outDim };
  matmulColumns(arena, task, bandStart(init.band, init.bands, outDim), bandStart(init.band + 1, init.bands, outDim));
  Atomics.add(ctl, CTL.done, 1);
  Atomics.notify(ctl, CTL.done);
}
