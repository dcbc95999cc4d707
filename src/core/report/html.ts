// The self-contained static report: one HTML file, inline CSS and SVG, no script, no network. Every number comes
// from analysis; dataset text and model output never appear unescaped.
import type { RunSummary } from '../analysis/summary';
import type { RankDistribution } from '../analysis/ranks';
import type { RunManifest } from '../model/manifest';
import { escapeHtml as e, lineChart, stackedShareChart, type LineSeries } from './svg';

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

export interface ReportInput {
  manifest: RunManifest;
  summary: RunSummary;
  ranks: RankDistribution[];
  /** a sentence shown at the top, e.g. that the model is a toy */
  caveat?: string;
}

export function renderHtmlReport({ manifest: m, summary: s, ranks, caveat }: ReportInput): string {
  const conditions = [...new Set(s.cells.map((c) => c.condition))];
  const multi = conditions.filter((c) => s.cells.filter((x) => x.condition === c).length > 1);
  const single = conditions.filter((c) => !multi.includes(c));
  const maxRound = Math.max(0, ...s.cells.map((c) => c.round));
  // one-turn conditions are drawn as flat references across the rounds of the multi-round ones
  const asSeries = (value: (c: RunSummary['cells'][number]) => number | null): LineSeries[] => [
    ...multi.map((name) => ({ name, points: s.cells.filter((c) => c.condition === name).map((c) => ({ x: c.round, y: value(c) })) })),
    ...single
      .filter((name) => name === 'baseline' || name === 'negation')
      .map((name) => {
        const cell = s.cells.find((c) => c.condition === name)!;
        return { name: `${name} (one turn)`, dashed: true, points: Array.from({ length: maxRound + 1 }, (_, x) => ({ x, y: value(cell) })) };
      }),
  ];
  const accuracy = lineChart('Accuracy per round', asSeries((c) => c.accuracy), { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(v * 100)}%`, xLabel: 'round' });
  const hasRanks = s.cells.some((c) => c.meanGoldRank !== null);
  const maxRank = Math.max(1, ...ranks.map((r) => r.counts.length));
  const rankSeries = asSeries((c) => c.meanGoldRank);
  const rankChart = hasRanks ? lineChart('Mean rank of the correct option (1 = top)', rankSeries, { yMin: 1, yMax: maxRank, xLabel: 'round', invertY: true }) : '';
  const focus = multi.includes('self-correct') ? 'self-correct' : multi[0];
  const focusRanks = ranks.filter((r) => r.condition === focus).sort((a, b) => a.round - b.round);
  const legend = Array.from({ length: maxRank }, (_, k) => `rank ${k + 1}`);
  const rankShare = focus && focusRanks.length > 0
    ? stackedShareChart(`Where the correct option ranks, ${focus}, per round (${focusRanks[0]!.method})`, focusRanks.map((r) => ({ label: `r${r.round}`, counts: r.counts })), legend)
    : '';
  const rows = s.cells
    .map(
      (c) => `<tr><td>${e(c.condition)}</td><td>${c.round}</td><td>${c.records}</td><td>${c.errors}</td><td>${pct(c.parseRate)}</td><td>${c.judged ? `${pct(c.accuracy)} <small>(${c.correct}/${c.judged})</small>` : '—'}</td><td>${c.meanGoldRank === null ? '—' : `${c.meanGoldRank.toFixed(2)} <small>${e(c.rankMethod ?? '')}</small>`}</td></tr>`,
    )
    .join('');
  const exp = m.experiment;
  const settings: Array<[string, string]> = [
    ['dataset', `${m.dataset.path} (${m.dataset.format}, ${m.dataset.items} items, sha256 ${m.dataset.sha256.slice(0, 16)}…)`],
    ['backend', `${m.backend.kind} · ${m.backend.model}${m.backend.baseUrl ? ` · ${m.backend.baseUrl}` : ''}`],
    ['capabilities', Object.entries(m.backend.capabilities).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'],
    ['experiment', `${exp.name}${exp.preset ? ` (preset ${exp.preset})` : ''}: ${exp.conditions.map((c) => `${c.name}×${c.rounds}`).join(', ')}`],
    ['decoding', `temperature ${exp.decoding.temperature}, top-p ${exp.decoding.topP}, max ${exp.decoding.maxTokens} tokens${exp.decoding.seed !== undefined ? `, seed ${exp.decoding.seed}` : ''}`],
    ['conversation · answers · ranking', `${exp.conversation} · ${exp.answerParsing} · ${exp.ranking.continuation}/${exp.ranking.aggregate}`],
    ['status', `${m.status}: ${m.counts.recorded}/${m.counts.planned} records, ${m.counts.errors} errors, ${m.counts.cached} cached; tool ${m.toolVersion}`],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Self-Correction Lab — ${e(m.id)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;background:#fff}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.caveat{background:#fff6d6;border:1px solid #e6c84f;padding:.6rem .8rem;border-radius:4px}
table{border-collapse:collapse}td,th{padding:.25rem .7rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}small{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;flex:1 1 520px}figcaption{font-weight:600;margin-bottom:.3rem}svg{width:100%;height:auto;font-size:11px}
svg .grid{stroke:#e3e3e3}svg text{fill:#444}.empty{color:#888}
@media (prefers-color-scheme: dark){body{background:#1e1e1e;color:#ddd}th{background:#2a2a2a}td,th{border-color:#444}svg text{fill:#bbb}svg .grid{stroke:#3a3a3a}.caveat{background:#3b3415;border-color:#7a6a25}}
</style></head><body>
<h1>Self-Correction Lab — run ${e(m.id)}</h1>
<p>${e(m.status)} · ${e(new Date(m.updatedAt).toUTCString())}</p>
${caveat ? `<p class="caveat">${e(caveat)}</p>` : ''}
<h2>Settings</h2>
<table>${settings.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>
<h2>Charts</h2>
<div class="charts">${accuracy}${rankChart}${rankShare}</div>
<h2>Per condition and round</h2>
<table><thead><tr><th>condition</th><th>round</th><th>records</th><th>errors</th><th>parsed</th><th>accuracy</th><th>mean gold rank</th></tr></thead><tbody>${rows}</tbody></table>
${Object.keys(s.errorsByCode).length ? `<p>Errors by code: ${e(Object.entries(s.errorsByCode).map(([k, v]) => `${k} ${v}`).join(', '))}</p>` : ''}
</body></html>
`;
}
