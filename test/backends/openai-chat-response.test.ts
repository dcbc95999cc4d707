// The chat answer reader's shortcut (answers plainly in the schema's shape skip zod) against the schema itself: for
// a working server's answer and for every field of it replaced by an odd value, both give the same round result
// (chatResult, firstPositionAlternatives) or the same error.
import { describe, expect, it } from 'vitest';
import { chatResult } from '../../src/core/backends/openai/chat';
import { firstPositionAlternatives } from '../../src/core/backends/openai/label-logprobs';
import { readChatResponse, readChatResponseBySchema, type ChatResponse } from '../../src/core/backends/openai/responses';

const answer = () => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: ' (a) The grandfather.' },
      finish_reason: 'stop',
      logprobs: {
        content: [
          { token: ' (', logprob: -0.5, bytes: [32, 40], top_logprobs: [{ token: ' (', logprob: -0.5 }, { token: ' the', logprob: -1.5 }] },
          { token: 'a', logprob: -0.1, top_logprobs: [{ token: 'a', logprob: -0.1 }] },
        ],
      },
    },
  ],
  usage: { prompt_tokens: 40, completion_tokens: 6, total_tokens: 46 },
});

const odd: unknown[] = [undefined, null, 'x', '', 0, 1.5, true, [], {}, [1], [{}]];

/** every path to a value in the answer, objects and arrays included */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof v !== 'object' || v === null) return [at];
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => paths((v as Record<string | number, unknown>)[k], [...at, k]))];
}

function withValue(path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const body = answer() as unknown as Record<string | number, unknown>;
  let at = body;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(at)) delete at[last];
  else at[last] = value;
  return body;
}

function outcome(read: (b: unknown, w: string) => ChatResponse, body: unknown) {
  const get = (f: (r: ChatResponse) => unknown) => {
    try {
      return { value: f(read(structuredClone(body), 'POST /chat/completions')) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  return { chat: get(chatResult), label: get((r) => firstPositionAlternatives(r, 'label')) };
}

describe('chat answer reader', () => {
  it('reads a working server\'s answer as the schema does', () => {
    const fast = outcome(readChatResponse, answer());
    expect(fast).toEqual(outcome(readChatResponseBySchema, answer()));
    expect(fast.chat.value).toMatchObject({ text: ' (a) The grandfather.', finishReason: 'stop', generatedTokens: [' (', 'a'], usage: { promptTokens: 40, completionTokens: 6 } });
  });

  it('gives the schema\'s result or error for every field replaced by an odd value', () => {
    let cases = 0;
    let errors = 0;
    for (const p of paths(answer())) {
      for (const v of odd) {
        const body = withValue(p, v);
        const want = outcome(readChatResponseBySchema, body);
        expect(outcome(readChatResponse, body), `${p.join('.')} = ${JSON.stringify(v)}`).toEqual(want);
        cases++;
        if (want.chat.error) errors++;
      }
    }
    // the cases reach both sides: answers read and answers refused
    expect(cases).toBeGreaterThan(300);
    expect(errors).toBeGreaterThan(30);
  });
});
