import type { LabelledRow } from '../../src/core/scorers/offline/labelled';
import { seededRandom } from '../../src/core/scorers/offline/train';

/** A separable toy set: toxic rows carry an insult, clean rows a friendly word, both among shared filler words. */
export function toyRows(n: number, seed = 7): LabelledRow[] {
  const rand = seededRandom(seed);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)]!;
  const filler = ['the', 'meeting', 'about', 'page', 'edit', 'article', 'today', 'source', 'talk', 'really', 'this', 'is'];
  const insults = ['idiot', 'moron', 'stupid', 'loser', 'pathetic', 'dumb'];
  const kind = ['thanks', 'helpful', 'great', 'appreciate', 'welcome', 'nice'];
  return Array.from({ length: n }, (_, i) => {
    const label = (i % 2) as 0 | 1;
    const words = Array.from({ length: 6 }, () => pick(filler));
    words.splice(Math.floor(rand() * 6), 0, pick(label ? insults : kind));
    return { text: words.join(' '), label, line: i + 2 };
  });
}
