// The plain-text report (`sclab report` without --json): readable tables of what analysis computed.
import type { FullSummary } from '../analysis/analyze';
import type { Interval, SpearmanTest } from '../analysis/stats';
import { NO_OUTPUT_METRIC, scorerNotes } from '../analysis/scorerNotes';
import type { RunManifest } from '../model/manifest';

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
export const num = (x: number | null | undefined, d = 3): string => (x === null || x === undefined ? '—' : Math.abs(x) < 0.001 && x !== 0 ? x.toExponential(2) : x.toFixed(d));
export const ciPct = (ci: Interval | null | undefined): string => (ci ? `${pct(ci.estimate)} [${pct(ci.lo)}, ${pct(ci.hi)}]` : '—');
export const ciNum = (ci: Interval | null | undefined): string => (ci ? `${num(ci.estimate)} [${num(ci.lo)}, ${num(ci.hi)}]` : '—');

/** "0.975 (p = 0.033, exact; 95% bootstrap [0.50, 1.00]) over 5 instructions" */
export function spearmanText(s: SpearmanTest): string {
  if (s.rho === null) return `— over ${s.n} instructions (needs 3 with both values, not all equal)`;
  const ci = s.ci ? `; bootstrap interval [${num(s.ci.lo)}, ${num(s.ci.hi)}]` : '';
  return `${num(s.rho)} (p = ${num(s.p)}, ${s.method === 'exact' ? 'exact permutation' : 't approximation'}${ci}) over ${s.n} instructions`;
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((v, i) => (v ?? '').padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

export function formatSummaryText(m: RunManifest, s: FullSummary): string {
  const L: string[] = [
    `run ${m.id}: ${m.status}, ${m.counts.recorded}/${m.counts.planned} records, ${s.errors} errors, ${s.cached} cached`,
    `dataset ${m.dataset.path} (${m.dataset.format}, ${m.dataset.items} items)`,
    `backend ${m.backend.kind} ${m.backend.model}${m.backend.baseUrl ? ` at ${m.backend.baseUrl}` : ''}`,
  ];
  if (s.unknownItems > 0) L.push(`(${s.unknownItems} records name items missing from items.jsonl: their item-level metrics are not computed)`);
  const cells = Object.entries(s.conditions).flatMap(([c, v]) => v.rounds.map((r) => ({ c, r })));
  const has = (f: (r: FullSummary['conditions'][string]['rounds'][number]) => unknown) => cells.some((x) => f(x.r) !== undefined);
  const probeNames = [...new Set(cells.flatMap((x) => Object.keys(x.r.probes ?? {})))];
  const header = ['condition', 'round', 'records', 'errors', 'parsed', 'accuracy'];
  if (has((r) => r.goldRank)) header.push('mean gold rank');
  if (has((r) => r.biasScore)) header.push('bias ambig', 'bias disambig');
  if (has((r) => r.pronouns)) header.push('they', 'he', 'she');
  if (has((r) => r.toxicity)) header.push(`${s.settings.scoreKey} mean`, `> ${s.settings.scoreThreshold}`);
  for (const p of probeNames) header.push(`${p} band`);
  const rows = cells.map(({ c, r }) => {
    const row = [c, String(r.round), String(r.n), String(r.errors), pct(r.parseRate), r.judged ? `${pct(r.accuracy)} (${r.correct}/${r.judged})` : '—'];
    if (header.includes('mean gold rank')) row.push(r.goldRank ? `${r.goldRank.mean.toFixed(2)} (${r.goldRank.method}${r.goldRank.censored ? `, ${pct(r.goldRank.censoredShare)} censored` : ''})` : '—');
    if (header.includes('bias ambig')) row.push(num(r.biasScore?.ambig?.score), num(r.biasScore?.disambig?.score));
    if (header.includes('they')) row.push(pct(r.pronouns?.theyRate), pct(r.pronouns?.heRate), pct(r.pronouns?.sheRate));
    if (r.toxicity || header.includes(`${s.settings.scoreKey} mean`)) row.push(num(r.toxicity?.mean), pct(r.toxicity?.shareAbove));
    for (const p of probeNames) row.push(num(r.probes?.[p]?.band.mean));
    return row;
  });
  L.push('', ...table(header, rows));

  const scorers = new Set(cells.flatMap((x) => (x.r.toxicity?.scorers ?? []).map((sc) => `${sc.scorer}@${sc.version}`)));
  if (scorers.size > 0) L.push('', `${s.settings.scoreKey} scored by ${[...scorers].join(', ')}${scorers.size > 1 ? '  (WARNING: mixed scorers; numbers are not comparable)' : ''}`);
  const notes = scorerNotes(m, { key: s.settings.scoreKey, hasScores: has((r) => r.toxicity) });
  if (notes.length) L.push('', ...notes);
  if (s.scoreKeys) {
    const main = s.settings.scoreKey;
    L.push('', `Scores side by side (${main} is the output metric; ρ: Spearman with ${main} on the records both scored)`);
    L.push(...table(['key', 'scorer', 'scored', 'mean', `ρ vs ${main}`, `mean − ${main}`], s.scoreKeys.map((k) => [k.key, k.scorers.join(', '), String(k.n), num(k.mean), k.versusMain ? `${num(k.versusMain.spearman)} (n ${k.versusMain.n})` : '—', k.versusMain ? num(k.versusMain.meanDifference) : '—'])));
    const cellsOf = s.scoreKeys[0]!.cells;
    L.push(...table(['condition', 'round', ...s.scoreKeys.map((k) => `${k.key} mean`)], cellsOf.map((c, i) => [c.condition, String(c.round), ...s.scoreKeys!.map((k) => num(k.cells[i]?.mean))])).map((l) => `  ${l}`));
  }

  const cats = cells.flatMap(({ c, r }) => Object.entries(r.biasScore?.byCategory ?? {}).map(([cat, b]) => [c, String(r.round), cat, num(b.ambig?.score), num(b.disambig?.score), String((b.ambig?.nonUnknown ?? 0) + (b.disambig?.nonUnknown ?? 0))]));
  if (cats.length) L.push('', 'BBQ bias scores by category (Parrish et al. 2022)', ...table(['condition', 'round', 'category', 's_amb', 's_dis', 'non-unknown'], cats));

  const shares = cells.flatMap(({ c, r }) => (r.pronouns?.byShare ?? []).map((b) => [c, String(r.round), b.bin, String(b.n), pct(b.theyRate), pct(b.heRate), pct(b.sheRate)]));
  if (shares.length) L.push('', 'Winogender pronouns by the occupation\'s share of women', ...table(['condition', 'round', 'share of women', 'answered', 'they', 'he', 'she'], shares));

  if (s.flips?.length) {
    L.push('', 'Correctness over rounds (items judged in every round)');
    L.push(...table(['condition', 'items', 'stayed right', 'stayed wrong', 'right→wrong', 'wrong→right', 'wavering', 'incomplete'], s.flips.map((f) => [f.condition, String(f.items), String(f.stayedCorrect), String(f.stayedWrong), String(f.correctToWrong), String(f.wrongToCorrect), String(f.wavering), String(f.incomplete)])));
  }
  if (s.transitions?.length) {
    L.push('', 'Gold-rank transitions (rows: rank in the earlier round; columns: in the later one)');
    for (const t of s.transitions) {
      L.push(`${t.condition} round ${t.from} → ${t.to} (${t.method}, ${t.n} items)`);
      L.push(...table(['', ...t.matrix.map((_, j) => `→${j + 1}`)], t.matrix.map((row, i) => [`${i + 1}`, ...row.map(String)])).map((l) => `  ${l}`));
    }
  }
  if (s.rankSplit?.length) {
    const rounds = [...new Set(s.rankSplit.flatMap((r) => r.rounds.map((x) => x.round)))].sort((a, b) => a - b);
    L.push('', `Accuracy over rounds by the gold rank at the start (${Math.round(s.settings.bootstrap.level * 100)}% bootstrap intervals over items)`);
    L.push(...table(['condition', 'split by', 'rank', 'items', ...rounds.map((r) => `round ${r}`)], s.rankSplit.map((row) => [row.condition, row.by, `${row.rank} (${row.method})`, String(row.items), ...rounds.map((r) => ciPct(row.rounds.find((x) => x.round === r)?.ci))])));
  }
  if (s.probeBands?.length) {
    L.push('', 'Probe band means against rounds');
    for (const b of s.probeBands) {
      L.push(`${b.probe}: layers ${b.band.lo}–${b.band.hi} (${b.band.source}), ${b.measure}; baseline ${num(b.baseline, 4)}`);
      L.push(...table(['condition', 'round', 'band mean', 'n'], b.conditions.flatMap((c) => c.points.map((p) => [c.condition, String(p.round), num(p.mean, 4), String(p.n)]))).map((l) => `  ${l}`));
    }
  }
  if (s.superficiality?.length) {
    L.push('', 'Superficiality test (each round against the baseline, paired by item)');
    if (s.task === 'generation' && !has((r) => r.toxicity)) L.push(`  (${NO_OUTPUT_METRIC})`);
    const probes = [...new Set(s.superficiality.flatMap((r) => Object.keys(r.probes)))];
    const gen = s.superficiality.some((r) => r.generation);
    L.push(...table(
      ['condition', 'round', `Δ ${s.superficiality[0]!.outputMetric}`, ...probes.map((p) => `Δ ${p} band`), ...(gen ? ['kept+appended', 'edit dist.'] : []), 'verdict'],
      s.superficiality.map((r) => [r.condition, String(r.round), ciNum(r.output), ...probes.map((p) => ciNum(r.probes[p]?.delta)), ...(gen ? [r.generation ? `${pct(r.generation.share)} of ${r.generation.pairs}` : '—', num(r.generation?.meanEditDistance)] : []), r.verdict]),
    ));
    const b = s.settings.bootstrap;
    const q = s.settings.equivalence;
    const conv = probes.map((p) => `${p}: more moral = ${s.superficiality!.find((r) => r.probes[p])!.probes[p]!.moralDirection}`).join(', ');
    L.push(`  (paired by item with ${s.superficiality[0]!.reference}; Δ: ${Math.round(b.level * 100)}% percentile bootstrap, ${b.resamples} resamples, seed ${b.seed}; verdicts: paired t one-sided in the moral direction at α = ${+(1 - b.level).toFixed(6)}, "unchanged" only by TOST within ±${q.probeMargin ?? `${q.marginSd} sd`} (probe) / ±${q.outputMargin ?? `${q.marginSd} sd`} (output)${conv ? `; ${conv}` : ''}; per-row basis in --json "restsOn")`);
  }
  for (const c of s.causal ?? []) {
    L.push('', `Causal test: steering along ${c.probe} (band ${c.band[0]}–${c.band[1]} ${c.measure}) — round 0 of each steered condition against ${c.reference}, paired by item`);
    L.push(...table(
      ['condition', 'alpha', 'layers', `Δ ${c.probe} band`, `Δ ${c.outputMetric}`, c.outputMetric],
      [
        ...c.points.map((p) => [p.condition, p.ablate ? 'ablate' : String(p.alpha), p.layers, ciNum(p.probeShift), ciNum(p.outputChange), num(p.output)]),
        ...(c.instruction ? [[`${c.instruction.condition} r${c.instruction.round}`, 'instruction', '—', ciNum(c.instruction.probeShift), ciNum(c.instruction.outputChange), '—']] : []),
      ],
    ));
    L.push(`  steering slope (Δ ${c.outputMetric} per unit of probe shift): ${ciNum(c.steeringSlope)}; the instruction's: ${num(c.instructionRatio)}; instruction beyond the slope's prediction: ${ciNum(c.excess)}`);
    L.push(`  verdict: ${c.verdict}`);
  }
  if (s.instructions) {
    const t = s.instructions;
    const probes = Object.keys(t.spearman);
    L.push('', `Instructions: effectiveness (${t.outputMetric} change vs ${t.reference ?? 'no baseline'}, round 0) against the probe level they induce`);
    L.push(...table(['condition', 'n', t.outputMetric, 'change', ...probes.map((p) => `${p} band`)], t.rows.map((r) => [r.condition, String(r.n), t.outputMetric === 'accuracy' ? pct(r.output) : num(r.output), num(r.change), ...probes.map((p) => num(r.probeLevel[p], 4))])));
    for (const p of probes) L.push(`Spearman's ρ (effectiveness vs ${p} band level): ${spearmanText(t.spearman[p]!)}`);
  }
  const codes = Object.entries(s.errorsByCode);
  if (codes.length > 0) L.push('', `errors by code: ${codes.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return L.join('\n') + '\n';
}
