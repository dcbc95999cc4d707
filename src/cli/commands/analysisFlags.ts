import type { Command } from 'commander';
import type { AnalysisOptions } from '../../core/analysis/analyze';
import { SclabError } from '../../core/model/errors';

export interface AnalysisFlags {
  seed?: string;
  resamples?: string;
  band?: string[];
  bins?: string;
  shareField?: string;
  measure?: string;
}

/** The analysis settings shared by `report` and `compare`. */
export function addAnalysisFlags(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed of the bootstrap resampling (default 1)')
    .option('--resamples <n>', 'bootstrap resamples (default 1000)')
    .option('--band <probe=lo:hi>', 'layer band of a probe, inclusive (repeatable); default: the experiment\'s, else the middle-to-late third', (v: string, acc: string[] = []) => [...acc, v])
    .option('--bins <cuts>', 'Winogender: cut points of the occupation\'s share of women, in percent (default 30,70)')
    .option('--share-field <f>', 'Winogender: bls or bergsma statistics (default bls)')
    .option('--measure <m>', 'probe measure: cosine (the paper\'s) or probability (default cosine)');
}

function int(v: string, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new SclabError('config', `${flag} ${v}: expected an integer ≥ ${min}`);
  return n;
}

export function analysisOptions(f: AnalysisFlags): AnalysisOptions {
  const opts: AnalysisOptions = { bootstrap: {} };
  if (f.seed !== undefined) opts.bootstrap!.seed = int(f.seed, '--seed', 0);
  if (f.resamples !== undefined) opts.bootstrap!.resamples = int(f.resamples, '--resamples', 1);
  const bands: Record<string, [number, number]> = {};
  for (const b of f.band ?? []) {
    const m = /^([A-Za-z0-9_.-]+)=(\d+):(\d+)$/.exec(b);
    if (!m || Number(m[2]) > Number(m[3])) throw new SclabError('config', `--band ${b}: expected PROBE=LO:HI with LO ≤ HI, e.g. bias=15:27`);
    bands[m[1]!] = [Number(m[2]), Number(m[3])];
  }
  if (f.measure !== undefined && f.measure !== 'cosine' && f.measure !== 'probability') throw new SclabError('config', `--measure ${f.measure}: expected cosine or probability`);
  opts.probes = { bands, measure: f.measure as 'cosine' | 'probability' | undefined };
  if (f.bins !== undefined || f.shareField !== undefined) {
    const bins = f.bins?.split(',').map((x) => Number(x.trim()));
    if (bins && (bins.some((x) => !Number.isFinite(x)) || bins.some((x, i) => i > 0 && x <= bins[i - 1]!))) throw new SclabError('config', `--bins ${f.bins}: expected ascending numbers, e.g. 30,70`);
    if (f.shareField !== undefined && f.shareField !== 'bls' && f.shareField !== 'bergsma') throw new SclabError('config', `--share-field ${f.shareField}: expected bls or bergsma`);
    opts.winogender = { bins, shareField: f.shareField === 'bergsma' ? 'pctFemaleBergsma' : 'pctFemaleBls' };
  }
  return opts;
}
