// One item across conditions and rounds: its text, each round's turn and answer (as text), the gold rank and probe
// sparklines, and the word diff between consecutive answers.
import type { DiffOp, ItemResult, ItemRound } from '../../src/core/viewer/protocol';
import type { Bridge } from '../bridge';
import { sparkline } from '../charts';
import { append, ce, h } from '../dom';
import { num } from '../format';
import { theme } from '../theme';

function diffView(ops: DiffOp[]): HTMLElement {
  if (ops.length === 0) return h('div', { class: 'diff muted' }, '(both answers empty)');
  if (ops.every((o) => o.op === 'eq')) return h('div', { class: 'diff muted' }, 'same answer as the round before');
  return h('div', { class: 'diff' }, ...ops.map((o) => (o.op === 'eq' ? h('span', null, o.text) : o.op === 'ins' ? h('ins', { title: 'added' }, o.text) : h('del', { title: 'removed' }, o.text))));
}

function outcome(r: ItemRound): HTMLElement {
  if (r.error) return h('span', { class: 'badge bad', title: r.error.message }, `error: ${r.error.code}`);
  const c = r.correct === null ? h('span', { class: 'badge' }, r.answer ? `answer ${r.answer}` : 'unparsed') : h('span', { class: r.correct ? 'badge good' : 'badge bad' }, `${r.correct ? '✓' : '✗'} ${r.answer ?? ''}`);
  return h('span', null, c, r.goldRank !== null ? h('span', { class: 'badge', title: `gold rank, ${r.rankMethod ?? ''}${r.rankCensored ? ' (censored: outside the top k, at least this rank)' : ''}` }, `gold rank ${r.goldRank}${r.rankCensored ? '+' : ''}${r.rankMethod === 'exact' ? '' : ' ≈'}`) : null);
}

function roundView(r: ItemRound, probe: ItemResult['probe']): HTMLElement {
  const ps = probe ? r.probes[probe.name] : undefined;
  const layerBand: [number, number] | undefined = ps && probe ? [Math.max(0, ps.layers.indexOf(probe.lo)), Math.max(0, ps.layers.indexOf(probe.hi))] : undefined;
  return h(
    'div',
    { class: 'round' },
    h(
      'div',
      { class: 'round-head' },
      h('strong', null, `round ${r.round}`),
      outcome(r),
      ps && probe ? h('span', { class: 'probe-spark' }, sparkline(ps.values, { width: 120, height: 22, band: layerBand, label: `${probe.name} ${probe.measure} per layer in round ${r.round}` }), ` band ${num(ps.band, 4)}`) : null,
      ...Object.entries(r.scores).map(([k, s]) => h('span', { class: 'badge', title: s.scorer }, `${k} ${num(s.value)}`)),
      h('span', { class: 'muted' }, `${Math.round(r.latencyMs)} ms${r.cached ? ', cached' : ''}`),
    ),
    h('details', { class: 'turn' }, h('summary', null, 'user turn'), h('pre', { class: 'text' }, r.user)),
    h('pre', { class: 'text answer' }, h('span', { class: 'prefill', title: 'assistant prefill' }, r.prefill), r.response),
  );
}

/** Asks the editor host to show the item's line in its dataset file (nothing in the browser hosts). */
export function revealInDataset(bridge: Bridge, d: ItemResult, preserveFocus: boolean): void {
  const source = d.item.source;
  if (bridge.kind !== 'vscode' || !source) return;
  bridge.command({ command: 'revealItem', args: { itemId: d.item.id, file: source.file, line: source.line, ...(preserveFocus ? { preserveFocus } : {}) } });
}

export function renderItem(root: HTMLElement, d: ItemResult, bridge: Bridge): void {
  const t = theme();
  const it = d.item;
  const reveal =
    bridge.kind === 'vscode' && it.source
      ? ce('vscode-button', { secondary: true, title: 'show this row in the dataset file' }, 'Reveal in dataset')
      : null;
  reveal?.addEventListener('click', () => revealInDataset(bridge, d, false));
  append(
    root,
    h('div', { class: 'item-head' }, h('h2', null, it.id), it.source ? h('span', { class: 'muted' }, `${it.source.file}:${it.source.line}`) : null, reveal),
    h('dl', { class: 'fields' }, ...Object.entries(it.fields).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, h('pre', { class: 'text' }, v))])),
    it.choices.length
      ? h('ol', { class: 'choices' }, ...it.choices.map((c, i) => h('li', { class: i === it.answer ? 'gold' : '' }, h('span', { class: 'label' }, it.choiceLabels[i] ?? ''), ' ', c, i === it.answer ? h('span', { class: 'badge good' }, 'gold') : null)))
      : null,
  );
  for (const c of d.conditions) {
    const ranks = c.rounds.map((r) => r.goldRank);
    const bands = d.probe ? c.rounds.map((r) => r.probes[d.probe!.name]?.band ?? null) : [];
    const block = h(
      'section',
      { class: 'card condition' },
      h(
        'div',
        { class: 'round-head' },
        h('h3', null, `${c.condition} (${c.kind})`),
        ranks.some((x) => x !== null) && c.rounds.length > 1 ? h('span', { class: 'spark-label' }, 'gold rank ', sparkline(ranks, { width: 90, height: 22, min: 1, max: Math.max(2, it.choices.length), invert: true, color: t.series[1], label: `gold rank per round: ${ranks.map((x) => x ?? '—').join(' → ')}` }), ` ${ranks.map((x) => x ?? '—').join(' → ')}`) : null,
        bands.some((x) => x !== null) && c.rounds.length > 1 && d.probe ? h('span', { class: 'spark-label' }, `${d.probe.name} band `, sparkline(bands, { width: 90, height: 22, label: `${d.probe.name} band score per round` })) : null,
      ),
    );
    c.rounds.forEach((r, k) => {
      if (k > 0) {
        const df = c.diffs[k - 1];
        if (df) block.append(h('div', { class: 'diff-head muted' }, `answer change, round ${df.from} → ${df.to}`), diffView(df.ops));
      }
      block.append(roundView(r, d.probe));
    });
    root.append(block);
  }
}
