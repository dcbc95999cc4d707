import type { RunProgress } from '../core/runner/execute';

/** A bar on a terminal; plain lines (every 10 % or 10 s) when stderr is a pipe or a file. */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr, quiet = false) {
  const tty = stream.isTTY === true;
  const started = Date.now();
  let lastLine = 0;
  let lastTenth = -1;
  let lastDraw = 0;
  let drawn = false;
  const format = (p: RunProgress) => {
    const pct = p.planned > 0 ? (100 * p.recorded) / p.planned : 100;
    const secs = (Date.now() - started) / 1000;
    const r = p.requests;
    const extra = [
      p.errors ? `${p.errors} errors` : '',
      p.cached ? `${p.cached} cached` : '',
      r ? `in flight ${r.inFlight}/${r.limit}, ${r.rpm} rpm` : '',
    ].filter(Boolean).join(', ');
    return { pct, text: `${p.recorded}/${p.planned} (${pct.toFixed(1)}%) ${secs.toFixed(1)}s${extra ? ` · ${extra}` : ''}` };
  };
  return {
    update(p: RunProgress) {
      if (quiet) return;
      const { pct, text } = format(p);
      const now = Date.now();
      if (tty) {
        if (now - lastDraw < 80 && p.recorded < p.planned) return;
        lastDraw = now;
        const width = 28;
        const fill = Math.round((pct / 100) * width);
        stream.write(`\r[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${text}\x1b[K`);
        drawn = true;
      } else {
        const tenth = Math.floor(pct / 10);
        if (tenth !== lastTenth || now - lastLine > 10_000) {
          lastTenth = tenth;
          lastLine = now;
          stream.write(`progress ${text}\n`);
        }
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
export type ProgressReporter = ReturnType<typeof createProgressReporter>;
