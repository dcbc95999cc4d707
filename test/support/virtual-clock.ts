// A clock whose time moves only when everything waiting on it is asleep: the scheduler's rates and pauses are
// measured in virtual milliseconds, so tests of them do not depend on how loaded the machine is.
import { cancelledError } from '../../src/core/model/errors';
import type { Clock } from '../../src/core/runner/scheduler';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(cancelledError());
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(cancelledError());
        },
        { once: true },
      );
    });
  }

  /** Runs until `work` settles: lets every ready callback run, then jumps to the next timer. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      await new Promise<void>((r) => setImmediate(r));
      if (settled) return work;
      if (this.timers.length === 0) throw new Error('virtual clock: nothing is sleeping, yet the work has not finished (deadlock)');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const at = this.timers[0]!.at;
      this.t = at;
      const due = this.timers.filter((x) => x.at === at);
      this.timers = this.timers.filter((x) => x.at !== at);
      for (const x of due) x.resolve();
    }
  }
}
