import type { ChatMessage } from '../model/chat';
import type { Condition, Experiment, TurnTemplate } from '../model/experiment';
import type { Item } from '../model/item';
import { SclabError } from '../model/errors';
import { renderTemplate } from './templates';

/** What one round sends: the conversation up to and including this round's user turn, and the assistant prefill. */
export interface BuiltRound {
  messages: ChatMessage[];
  prefill: string;
}

/** One earlier round of the same item and condition, as it was generated. */
export interface RoundHistory {
  prefill: string;
  response: string;
}

/** Round r (0-based) uses turns[min(r, turns.length - 1)]. */
export function turnForRound(condition: Condition, round: number): TurnTemplate {
  const turn = condition.turns[Math.min(round, condition.turns.length - 1)];
  if (turn === undefined) throw new SclabError('internal', `condition ${condition.name} has no turns`);
  return turn;
}

/**
 * The assistant's text of an earlier round: the prefill, then what the model wrote after it. The model continued
 * the prefill directly, and SentencePiece-style models emit the separating space as part of their first token
 * (" (b)"), so a response that starts with whitespace is appended as it is. Some servers strip that leading space
 * from the returned text; then one space is put back, because every prefill ends in a word or a colon and the
 * model cannot have meant "is(b)". A response that starts with closing punctuation (",", ".", ")", …) is appended
 * directly. The same join is used for option scoring (" (a)" after the prefill) and in raw mode.
 */
export function joinPrefill(prefill: string, response: string): string {
  if (prefill === '' || response === '') return prefill + response;
  if (/\s$/.test(prefill) || /^\s/.test(response) || /^[,.;:!?)\]}'’"”]/.test(response)) return prefill + response;
  return `${prefill} ${response}`;
}

function checkRound(condition: Condition, round: number, history: readonly RoundHistory[]): void {
  if (!Number.isInteger(round) || round < 0 || round >= condition.rounds) {
    throw new SclabError('internal', `round ${round} is outside condition ${condition.name} (rounds 0…${condition.rounds - 1})`);
  }
  if (history.length !== round) {
    throw new SclabError('internal', `round ${round} of condition ${condition.name} needs ${round} earlier rounds of history, got ${history.length}`);
  }
}

/**
 * Raw mode, the authors' style: the whole conversation as one user message,
 * "[INST] u1 [/INST] prefill1 response1 [INST] u2 [/INST]" (Mistral-Instruct's markers, no <s> or </s>; the
 * backend's chat template may wrap it once more, as the authors' string concatenation effectively did). The
 * prefill of the current round is still sent separately as the start of the answer.
 */
function rawConversation(userTexts: string[], history: readonly RoundHistory[]): string {
  const parts: string[] = [];
  userTexts.forEach((user, k) => {
    parts.push(`[INST] ${user} [/INST]`);
    const earlier = history[k];
    if (earlier !== undefined) parts.push(joinPrefill(earlier.prefill, earlier.response));
  });
  return parts.join(' ');
}

/**
 * The messages of round `round` (0-based) of `condition` for `item`: the preamble, then for every earlier round
 * its user turn and the assistant turn (prefill + response, see joinPrefill), then this round's user turn.
 * `history` holds the earlier rounds of the same item and condition, oldest first (exactly `round` of them).
 */
export function buildRound(exp: Experiment, condition: Condition, item: Item, round: number, history: ReadonlyArray<RoundHistory>): BuiltRound {
  checkRound(condition, round, history);
  const userTexts: string[] = [];
  for (let r = 0; r <= round; r++) userTexts.push(renderTemplate(turnForRound(condition, r).user, item));
  const prefill = renderTemplate(turnForRound(condition, round).prefill, item);
  const messages: ChatMessage[] = exp.preamble.map((m) => ({ role: m.role, content: m.content }));
  if (exp.conversation === 'raw') {
    messages.push({ role: 'user', content: rawConversation(userTexts, history) });
    return { messages, prefill };
  }
  userTexts.forEach((user, k) => {
    messages.push({ role: 'user', content: user });
    const earlier = history[k];
    if (earlier !== undefined) messages.push({ role: 'assistant', content: joinPrefill(earlier.prefill, earlier.response) });
  });
  return { messages, prefill };
}
