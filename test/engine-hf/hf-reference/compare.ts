import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfModel } from '../../../src/core/engine/hf/load';
import { hiddenStates, nextTokenLogits } from '../../../src/core/engine/session';
const root = join(process.cwd(), 'tmp/hfcheck/models'); // run from the repo root
const cases = JSON.parse(readFileSync(join(root, 'cases.json'), 'utf8'));
const hf = JSON.parse(readFileSync(join(process.cwd(), 'tmp/hfcheck/hf.json'), 'utf8'));
for (const id of ['llama', 'mistral', 'qwen2']) {
  const m = await loadHfModel(join(root, id));
  const ref = hf[id];
  const ids: number[] = cases.ids;
  let worstLogit = 0, maxLogit = 0;
  for (let t = 1; t <= ids.length; t++) {
    const ours = nextTokenLogits(m, ids.slice(0, t));
    const theirs: number[] = ref.logits[t - 1];
    for (let i = 0; i < theirs.length; i++) { worstLogit = Math.max(worstLogit, Math.abs(ours[i]! - theirs[i]!)); maxLogit = Math.max(maxLogit, Math.abs(theirs[i]!)); }
  }
  const hs = await hiddenStates(m, ids, { position: 'all', modules: ['residual'], convention: 'hf' });
  let worstHidden = 0;
  hs.residual!.forEach((layer, l) => {
    const theirs: number[][] = ref.hidden[l];
    theirs.forEach((row, t) => row.forEach((v, j) => { worstHidden = Math.max(worstHidden, Math.abs(layer[t * row.length + j]! - v)); }));
  });
  const prompt = (text: string) => [...(m.addBos ? [m.tokenizer.bosId!] : []), ...m.tokenizer.encode(text)];
  const textOk = cases.texts.map((t: string, i: number) => JSON.stringify(prompt(t)) === JSON.stringify(ref.text_ids[i]) && JSON.stringify(m.tokenizer.encode(t)) === JSON.stringify(ref.text_ids_nospecial[i]));
  const chatOk = cases.chats.map((c: { messages: never[]; prefill: string }, i: number) => {
    const r = ref.chats[i];
    if (r.error) return `hf-error ${r.error}`;
    const text = m.chat.render(c.messages, c.prefill);
    const ok = JSON.stringify(prompt(text)) === JSON.stringify(r.ids);
    return ok ? 'same ids' : `DIFF ours=${JSON.stringify(prompt(text))} hf=${JSON.stringify(r.ids)} text=${JSON.stringify(text)} hftext=${JSON.stringify(r.text)}`;
  });
  console.log(id, { layers: hs.residual!.length, worstLogit, maxLogit, worstHidden, addBos: m.addBos, textOk, chatOk });
}
