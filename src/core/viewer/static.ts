// Node: the static, self-contained HTML viewer of a run: the app bundle and stylesheet inlined, and the service's
// answers for the first page of each view embedded as JSON, so the file works offline and without a host.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AnalysisOptions } from '../analysis/analyze';
import { SclabError } from '../model/errors';
import { renderStaticHtml } from './html';
import { requestKeyOf, safeParseAppMessage, type Method, type SamplesResult } from './protocol';
import { createViewerService } from './service';

export interface StaticViewerOptions {
  /** the folder holding viewer.js and viewer.css (dist/webview) */
  assetsDir: string;
  compareRunDir?: string;
  analysis?: AnalysisOptions;
  /** rows of the first samples page, and how many of their items get their detail embedded */
  samplesPage?: number;
  itemDetails?: number;
}

/** The first samples page the app asks for with its default filter and sort; keep in step with webview/pages/samples.ts. */
export const FIRST_SAMPLES_PARAMS = { offset: 0, limit: 100, filter: {}, sort: { key: 'item', dir: 'asc' } } as const;

export async function readViewerAssets(assetsDir: string): Promise<{ script: string; style: string }> {
  try {
    const [script, style] = await Promise.all([fs.readFile(path.join(assetsDir, 'viewer.js'), 'utf8'), fs.readFile(path.join(assetsDir, 'viewer.css'), 'utf8')]);
    return { script, style };
  } catch (err) {
    throw new SclabError('io', `the viewer app is not built in ${assetsDir} (${(err as NodeJS.ErrnoException).code ?? String(err)}); run \`npm run build\``);
  }
}

export async function renderStaticViewer(runDir: string, opts: StaticViewerOptions): Promise<string> {
  const { script, style } = await readViewerAssets(opts.assetsDir);
  const service = createViewerService({ runDir, ...(opts.compareRunDir ? { compareRunDir: opts.compareRunDir } : {}), ...(opts.analysis ? { analysis: opts.analysis } : {}) });
  const answers: Record<string, unknown> = {};
  const put = async (method: Method, params: unknown) => {
    // validated once: the key and the answer come from the same parsed request
    const parsed = safeParseAppMessage({ kind: 'request', id: 1, method, params });
    if (!parsed.ok || parsed.message.kind !== 'request') return null;
    const r = await service.respond(parsed.message);
    // errors are not embedded: the page then says this view needs a live host
    if (r.ok) answers[requestKeyOf(parsed.message)] = r.result;
    return r.ok ? r.result : null;
  };
  const overview = await put('overview', {});
  if (!overview) throw new SclabError('io', `${runDir}: cannot build the static viewer: the overview failed`);
  for (const m of ['ranks', 'probes', 'instructions', 'compare'] as const) await put(m, {});
  const limit = opts.samplesPage ?? FIRST_SAMPLES_PARAMS.limit;
  const samples = (await put('samples', { ...FIRST_SAMPLES_PARAMS, limit })) as SamplesResult | null;
  const ids = [...new Set((samples?.rows ?? []).map((r) => r.itemId))].slice(0, opts.itemDetails ?? 25);
  for (const itemId of ids) await put('item', { itemId });
  const name = path.basename(path.resolve(runDir));
  return renderStaticHtml({ script, style, nonce: randomBytes(18).toString('base64'), answers, title: `Self-Correction Lab: ${name}`, state: { run: name } });
}
