import type { ModelSpec } from '../core/engine/load-local';
import { modelCacheSettings, resolveModel } from '../core/engine/resolve';

export const DEFAULT_EMBEDDED_MODEL = 'stories260K';

/**
 * Turns --model (a path or a catalogue name) into files on disk, downloading into the verified cache with progress
 * on stderr when needed.
 */
export async function resolveModelForCli(spec: string, opts: { extraMirrors?: string[]; quiet?: boolean; signal?: AbortSignal } = {}): Promise<ModelSpec> {
  let lastFile = '';
  let lastPct = -1;
  const resolved = await resolveModel(spec, {
    ...modelCacheSettings(process.env, process.platform, opts.extraMirrors),
    signal: opts.signal,
    onProgress: (p) => {
      if (opts.quiet) return;
      const pct = p.total ? Math.floor((100 * p.received) / p.total) : -1;
      if (p.file !== lastFile || (pct !== lastPct && pct % 10 === 0)) {
        lastFile = p.file;
        lastPct = pct;
        process.stderr.write(`model ${spec}: ${p.file} ${p.total ? `${pct}% of ${(p.total / 1e6).toFixed(1)} MB` : `${(p.received / 1e6).toFixed(1)} MB`}\n`);
      }
    },
  });
  return resolved.kind === 'llama2c' ? { kind: 'llama2c', bin: resolved.bin, tokenizer: resolved.tokenizer } : { kind: 'hf', dir: resolved.dir };
}
