import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeHfFolder } from '../fixtures';
const root = join(process.cwd(), 'tmp/hfcheck/models'); // run from the repo root
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const cases = [
  { id: 'llama', spec: { family: 'llama', dtype: 'BF16', tied: true, dim: 64, nHeads: 4, nKvHeads: 2, hiddenDim: 96, nLayers: 2 } },
  { id: 'mistral', spec: { family: 'mistral', dtype: 'F16', tied: false, dim: 64, nHeads: 4, nKvHeads: 2, hiddenDim: 96, nLayers: 2 } },
  { id: 'qwen2', spec: { family: 'qwen2', dtype: 'F32', tied: true, dim: 64, nHeads: 4, nKvHeads: 1, hiddenDim: 96, nLayers: 3, sharded: true } },
] as const;
for (const c of cases) writeHfFolder(c.spec as never, join(root, c.id));
writeFileSync(join(root, 'cases.json'), JSON.stringify({
  ids: [5, 17, 42, 7, 99, 3, 120, 64, 8, 250, 31, 12],
  texts: ['the cat sat in the hat', 'é à!'],
  chats: [
    { messages: [{ role: 'user', content: 'Is it fair? the end' }], prefill: 'The answer is (' },
    { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'in the' }], prefill: '' },
  ],
}));
