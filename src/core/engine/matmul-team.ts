// One forward pass on several threads: helper threads attach to the model's kernel memory and each computes a band
// of output columns of every big matmul, the calling thread computing the first band; they meet through Atomics on
// a control block in that memory. Every output column is summed by the same kernel in the same order as on one
// thread, so the results are identical to the bit. This is the alternative to a pool of workers serving different
// chains (client.ts); the benchmark (bench:engine section 7) measures both. Internal: a worker runs it only when
// asked (WorkerInit.matmulThreads), never by default.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { kernelArenaOf, matmulColumns, setColumnSplitter, type ColumnSplitter, type KernelArena, type MatmulTask } from './kernels-wasm';

/** Int32 words of the control block */
export const CTL = { generation: 0, done: 1, stop: 2, kind: 3, op: 4, xp: 5, wp: 6, rows: 7, inDim: 8, outDim: 9, words: 16 } as const;
export const KINDS: MatmulTask['kind'][] = ['F32', 'F16', 'BF16', 'F16_FINITE'];
/** below this many multiply-adds a matmul runs on the calling thread alone: waking helpers costs more */
export const MIN_SPLIT_MACS = 1 << 20;
/** columns of a band are a multiple of this (whole SIMD tiles, so each column meets the kernel it meets alone) */
const BAND_ALIGN = 8;

/** what the helper entry (matmul-helper.ts) gets in workerData */
export interface HelperInit {
  memory: WebAssembly.Memory;
  /** byte offset of the control block */
  control: number;
  /** this helper's band: 1 … helpers (band 0 is the calling thread's) */
  band: number;
  bands: number;
}

/** first column of band i of n over outDim columns */
export function bandStart(i: number, n: number, outDim: number): number {
  if (i >= n) return outDim;
  return Math.min(outDim, Math.floor((i * outDim) / n / BAND_ALIGN) * BAND_ALIGN);
}

export class MatmulTeam implements ColumnSplitter {
  private constructor(
    private readonly arena: KernelArena,
    private readonly ctl: Int32Array,
    private readonly words: Uint32Array,
    private readonly helpers: Worker[],
  ) {}

  /** threads in all: the caller and its helpers */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** helpers attached to `memory`; from now on this thread's big matmuls on it are split */
  static async start(memory: WebAssembly.Memory, threads: number, helperPath: string): Promise<MatmulTeam> {
    if (!existsSync(helperPath)) throw new Error(`matmul helper ${helperPath} not found; build it with \`node esbuild.mjs\``);
    const arena = kernelArenaOf(memory);
    const block = arena.allocF32(CTL.words);
    const ctl = new Int32Array(block.buffer, block.byteOffset, CTL.words);
    const words = new Uint32Array(block.buffer, block.byteOffset, CTL.words);
    const helpers = await Promise.all(
      Array.from({ length: threads - 1 }, (_, k) => {
        const init: HelperInit = { memory, control: block.byteOffset, band: k + 1, bands: threads };
        const w = new Worker(helperPath, { workerData: init });
        return new Promise<Worker>((resolve, reject) => {
          w.once('message', () => resolve(w));
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`matmul helper ${helperPath} exited (code ${code}) before it was ready`)));
        });
      }),
    );
    const team = new MatmulTeam(arena, ctl, words, helpers);
    setColumnSplitter(arena, team);
    return team;
  }

  split(t: MatmulTask): boolean {
    if (t.rows * t.inDim * t.outDim < MIN_SPLIT_MACS || t.outDim < BAND_ALIGN * this.threads) return false;
    const { ctl, words } = this;
    words[CTL.kind] = KINDS.indexOf(t.kind);
    words[CTL.op] = t.op;
    words[CTL.xp] = t.xp;
    words[CTL.wp] = t.wp;
    words[CTL.rows] = t.rows;
    words[CTL.inDim] = t.inDim;
    words[CTL.outDim] = t.outDim;
    Atomics.store(ctl, CTL.done, 0);
    Atomics.add(ctl, CTL.generation, 1); // publishes the task (a sequentially consistent write after the fields)
    Atomics.notify(ctl, CTL.generation);
    matmulColumns(this.arena, t, 0, bandStart(1, this.threads, t.outDim));
    const helpers = this.helpers.length;
    for (let spin = 0; spin < 2000 && Atomics.load(ctl, CTL.done) < helpers; spin++);
    for (let done = Atomics.load(ctl, CTL.done); done < helpers; done = Atomics.load(ctl, CTL.done)) Atomics.wait(ctl, CTL.done, done);
    return true;
  }

  async close(): Promise<void> {
    setColumnSplitter(this.arena, null);
    Atomics.store(this.ctl, CTL.stop, 1);
    Atomics.add(this.ctl, CTL.generation, 1);
    Atomics.notify(this.ctl, CTL.generation);
    await Promise.all(this.helpers.map((w) => w.terminate()));
  }
}
