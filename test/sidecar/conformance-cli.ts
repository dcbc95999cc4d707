// `npm run test:sidecar -- --url URL [--token-env NAME | --token T] [--reference URL2 [--rtol 1e-4]] [--json FILE]`:
// the conformance suite against any sidecar; with --reference, also the same hidden states and log-likelihoods
// from both servers (e.g. the Python sidecar against `sclab serve` on the same model), within rtol relative.
import { writeFileSync } from 'node:fs';
import { createSidecarClient } from '../../src/core/sidecar/client';
import { conformanceChecks, maxRelDiff } from './conformance';

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
    out[a.slice(2)] = v;
    i++;
  }
  return out;
}

const COMPARE_INPUTS = [
  { prompt: 'Once upon a time, there was a little girl named Lily. She loved to play outside.' },
  { prompt: 'Tom' },
  { messages: [{ role: 'user' as const, content: 'Tell me a story about a cat.' }], prefill: 'Once upon a time' },
];

async function compare(url: string, reference: string, token: string | undefined, rtol: number): Promise<{ ok: boolean; figures: Record<string, number> }> {
  const a = createSidecarClient({ url, timeoutMs: 120_000, ...(token ? { token } : {}) });
  const b = createSidecarClient({ url: reference, timeoutMs: 120_000, ...(token ? { token } : {}) });
  const figures: Record<string, number> = {};
  const note = (k: string, v: number): void => void (figures[k] = Math.max(figures[k] ?? 0, v));
  try {
    const [ia, ib] = [await a.info(), await b.info()];
    if (ia.n_layers !== ib.n_layers || ia.d_model !== ib.d_model) throw new Error(`shapes differ: ${ia.n_layers}×${ia.d_model} vs ${ib.n_layers}×${ib.d_model}`);
    const variants = [
      { module: 'resid' as const, convention: 'sclab' as const },
      { module: 'resid' as const, convention: 'hf' as const },
      { module: 'attn' as const, convention: 'sclab' as const },
      { module: 'mlp' as const, convention: 'sclab' as const },
    ];
    for (const input of COMPARE_INPUTS) {
      for (const v of variants) {
        for (const position of ['all', 'mean', 'last'] as const) {
          const req = { ...input, ...v, position, encoding: 'base64-f32' as const };
          const [ha, hb] = [await a.hiddenStates(req), await b.hiddenStates(req)];
          if (ha.nTokens !== hb.nTokens) throw new Error(`${JSON.stringify(input).slice(0, 60)}: ${ha.nTokens} vs ${hb.nTokens} tokens (tokenizers or chat formats differ)`);
          ha.vectors.forEach((x, i) => note(`hidden ${v.module}/${v.convention}/${position} max rel diff`, maxRelDiff(x, hb.vectors[i]!)));
        }
      }
    }
    const ctx = { context: 'Once upon a time, there was a little', continuations: [' girl', ' dog named Max', ' cat'] };
    const [la, lb] = [await a.loglikelihood(ctx), await b.loglikelihood(ctx)];
    la.results.forEach((r, i) => {
      const s = lb.results[i]!;
      if (r.logprobs.length !== s.logprobs.length) throw new Error(`loglikelihood ${i}: ${r.logprobs.length} vs ${s.logprobs.length} tokens`);
      note('loglikelihood max abs diff', Math.abs(r.sum - s.sum));
    });
  } finally {
    a.close();
    b.close();
  }
  const ok = Object.entries(figures).every(([k, v]) => (k.startsWith('hidden') ? v <= rtol : v <= 1e-3));
  return { ok, figures };
}

async function main(): Promise<number> {
  const o = args(process.argv.slice(2));
  const url = o.url ?? process.env.SCLAB_SIDECAR_URL;
  if (!url) {
    process.stderr.write('usage: npm run test:sidecar -- --url http://127.0.0.1:8765 [--token-env NAME] [--reference URL [--rtol 1e-4]] [--json FILE]\n');
    return 2;
  }
  const token = o['token-env'] ? process.env[o['token-env']] : (o.token ?? process.env.SCLAB_SIDECAR_TOKEN);
  const suite = conformanceChecks({ url, ...(token ? { token } : {}) });
  const report: { url: string; checks: Array<{ name: string; ok: boolean; error?: string; ms: number }>; comparison?: { reference: string; ok: boolean; figures: Record<string, number> } } = { url, checks: [] };
  let failed = 0;
  for (const check of suite.checks) {
    const t = performance.now();
    try {
      await check.run();
      report.checks.push({ name: check.name, ok: true, ms: Math.round(performance.now() - t) });
      process.stdout.write(`ok    ${check.name}\n`);
    } catch (e) {
      failed++;
      const error = e instanceof Error ? e.message : String(e);
      report.checks.push({ name: check.name, ok: false, error, ms: Math.round(performance.now() - t) });
      process.stdout.write(`FAIL  ${check.name}\n      ${error}\n`);
    }
  }
  suite.close();
  if (o.reference) {
    const rtol = Number(o.rtol ?? '1e-4');
    try {
      const c = await compare(url, o.reference, token, rtol);
      report.comparison = { reference: o.reference, ...c };
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  same numbers as ${o.reference} (hidden states within ${rtol} relative):\n`);
      for (const [k, v] of Object.entries(c.figures)) process.stdout.write(`      ${k}: ${v.toExponential(2)}\n`);
      if (!c.ok) failed++;
    } catch (e) {
      failed++;
      report.comparison = { reference: o.reference, ok: false, figures: {} };
      process.stdout.write(`FAIL  comparison with ${o.reference}: ${(e as Error).message}\n`);
    }
  }
  if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 1));
  process.stdout.write(`${report.checks.filter((c) => c.ok).length}/${report.checks.length} checks passed${report.comparison ? `; comparison ${report.comparison.ok ? 'ok' : 'FAILED'}` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sidecar conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
