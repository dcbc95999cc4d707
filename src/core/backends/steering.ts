// Where a request's steering starts, in tokens: 'all' = the first token; 'input' = the first token of this round's
// user turn, found as the end of the longest common token prefix of the history alone and the whole prompt (so a
// chat format's separators between turns never shift it into the history). Shared by every host of the engine.
import type { EngineClient, Steered } from '../engine/client';
import type { ChatMessage } from '../model/chat';
import type { Steering } from './backend';

/** One request's steering: the intervention, the chat it was asked with (to find the user turn) and its prompt's ids. */
export interface SteeringRequest {
  steer: Steering | undefined;
  messages: readonly ChatMessage[] | undefined;
  ids: readonly number[];
}

export async function resolveSteering(client: EngineClient, { steer, messages, ids }: SteeringRequest, signal?: AbortSignal): Promise<Steered> {
  if (!steer) return {};
  const from = steer.positions === 'input' && messages ? await inputStart(client, messages, ids, signal) : 0;
  return { intervention: { ...steer.intervention, fromPosition: from } };
}

async function inputStart(client: EngineClient, messages: readonly ChatMessage[], ids: readonly number[], signal?: AbortSignal): Promise<number> {
  let lastUser = messages.length - 1;
  while (lastUser > 0 && messages[lastUser]!.role !== 'user') lastUser--;
  if (lastUser <= 0) return 0;
  const text = await client.render(messages.slice(0, lastUser), '', { signal });
  const before = (await client.tokenize([text], undefined, { signal }))[0]!;
  let from = 0;
  while (from < before.length && from < ids.length && before[from] === ids[from]) from++;
  return from;
}
