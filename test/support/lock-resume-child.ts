// A child process for the run-lock stress test, driven by lines on stdin:
//   hold DIR N          open the run, append the first N/2 records, say "holding" (the parent then kills it)
//   resume DIR N AT     at instant AT (epoch ms, so that every child leaves the gate together) open the run; if that
//                       works, append every missing record and say "proceeded K", else say "refused MESSAGE"
//   release             close the run this child holds (the parent sends it once every child has answered)
// One process serves all the rounds: ten fresh node processes per round would make the test minutes long.
import { createInterface } from 'node:readline';
import type { RoundRecord } from '../../src/core/model/record';
import { readRecords, RunStore } from '../../src/core/runner/store';

function rec(i: number): RoundRecord {
  return { itemId: `q${i}`, condition: 'baseline', round: 0, messages: [{ role: 'user', content: 'q' }], prefill: '', response: ' (a)', answer: { index: 0, label: '(a)' }, correct: true, latencyMs: 1, attempts: 1, cached: false, at: new Date().toISOString() };
}

const say = (s: string): void => void process.stdout.write(`${s.replace(/\n/g, ' ')}\n`);
let holding: RunStore | null = null;

async function handle(line: string): Promise<void> {
  const [cmd, runDir, planned, startAt] = line.trim().split(' ') as [string, string, string, string];
  const n = Number(planned);
  if (cmd === 'hold') {
    const { store, resume } = await RunStore.open(runDir);
    for (let i = resume.counts.recorded; i < n / 2; i++) await store.append(rec(i));
    say('holding');
    return;
  }
  if (cmd === 'release') {
    await holding?.close();
    holding = null;
    say('released');
    return;
  }
  while (Date.now() < Number(startAt)) {
    // spin: every child leaves the gate at the same instant
  }
  let opened;
  try {
    opened = await RunStore.open(runDir);
  } catch (err) {
    say(`refused ${(err as Error).message}`);
    return;
  }
  const done = new Set((await readRecords(runDir)).records.map((r) => r.itemId));
  let added = 0;
  for (let i = 0; i < n; i++) {
    if (done.has(`q${i}`)) continue;
    await opened.store.append(rec(i));
    added++;
    await new Promise((r) => setImmediate(r));
  }
  holding = opened.store;
  say(`proceeded ${added}`);
}

let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(() => handle(line)).catch((err: unknown) => void say(`crashed ${String(err)}`));
});
