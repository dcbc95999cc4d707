// Capability probing on connect: a handful of cheap requests (max_tokens 1), each answering one question.
// Transient failures (network, timeout, 5xx, 429) and auth failures end connect with that error: guessing
// capabilities from a flaky answer would misdescribe the run. A refused or unreadable answer to an optional
// feature means the feature is absent, and the notes say why.
import type OpenAI from 'openai';
import type { Capabilities } from '../../model/manifest';
import { isSclabError, SclabError } from '../../model/errors';
import type { RequestGate } from './client';
import type { PrefillMode } from './options';
import { readChatResponse, readCompletionResponse, readModelIds } from './responses';
import { echoedSpans, scoreBody } from './score';

export interface ProbeResult {
  capabilities: Capabilities;
  prefillMode: PrefillMode;
  /** max_tokens the server accepts alongside echo (0 preferred; 1 where 0 is refused) */
  echoMaxTokens: 0 | 1;
  notes: string[];
}

interface ProbeContext {
  client: OpenAI;
  gate: RequestGate;
  model: string;
  signal: AbortSignal | undefined;
}

const PROBE_MESSAGES = [{ role: 'user', content: 'Answer with one word: is the sky blue? (a) yes (b) no' }];

/** a refusal of an optional feature, as opposed to a failure that must end connect */
function refusal(e: unknown): SclabError | undefined {
  return isSclabError(e) && (e.code === 'bad_request' || e.code === 'malformed_response' || e.code === 'unsupported')
    ? e
    : undefined;
}

function why(e: SclabError): string {
  return e.status !== undefined ? `HTTP ${e.status}` : e.code === 'malformed_response' ? 'unreadable answer' : e.message;
}

function post(ctx: ProbeContext, path: '/chat/completions' | '/completions', body: Record<string, unknown>): Promise<unknown> {
  const what = `probe POST ${path}`;
  // the SDK's typed methods; bodies carry server-specific fields, and answers are validated by our readers
  return ctx.gate.run(what, ctx.signal, (signal): Promise<unknown> =>
    path === '/chat/completions'
      ? ctx.client.chat.completions.create(body as never, { signal })
      : ctx.client.completions.create(body as never, { signal }),
  );
}

/** null when the server has no model list; the ids otherwise */
async function listModels(ctx: ProbeContext, notes: string[]): Promise<string[] | null> {
  try {
    const body = await ctx.gate.run('probe GET /models', ctx.signal, (signal) => ctx.client.get<unknown>('/models', { signal }));
    const ids = readModelIds(body, 'probe GET /models');
    if (ids.includes(ctx.model)) notes.push(`GET /models: lists model "${ctx.model}"`);
    else notes.push(`GET /models: model "${ctx.model}" is not among the ${ids.length} listed (${ids.slice(0, 5).join(', ')})`);
    return ids;
  } catch (e) {
    const r = refusal(e);
    if (!r) throw e;
    notes.push(`GET /models: unavailable (${why(r)}); model not checked`);
    return null;
  }
}

async function probeChat(ctx: ProbeContext, ids: string[] | null, notes: string[]): Promise<boolean> {
  try {
    readChatResponse(await post(ctx, '/chat/completions', { model: ctx.model, messages: PROBE_MESSAGES, max_tokens: 1, temperature: 0 }), 'probe');
    notes.push('chat: ok');
    return true;
  } catch (e) {
    const r = refusal(e);
    if (!r) throw e;
    if (r.status === 404 && ids !== null && !ids.includes(ctx.model)) {
      throw new SclabError('model', `model "${ctx.model}" not found; the server lists: ${ids.slice(0, 10).join(', ') || 'nothing'}`);
    }
    notes.push(`chat: unsupported (${why(r)})`);
    return false;
  }
}

async function probeTopLogprobs(ctx: ProbeContext, notes: string[]): Promise<boolean> {
  try {
    const body = { model: ctx.model, messages: PROBE_MESSAGES, max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 2 };
    const res = readChatResponse(await post(ctx, '/chat/completions', body), 'probe');
    const first = res.choices[0]?.logprobs?.content?.[0];
    if (first?.top_logprobs && first.top_logprobs.length > 0) {
      notes.push('chat logprobs: top-k alternatives of generated tokens available (approximate option ranks)');
      return true;
    }
    notes.push('chat logprobs: the server answered without top_logprobs (logprobs: null or empty)');
    return false;
  } catch (e) {
    const r = refusal(e);
    if (!r) throw e;
    notes.push(`chat logprobs: unsupported (${why(r)})`);
    return false;
  }
}

async function probePrefill(ctx: ProbeContext, notes: string[]): Promise<PrefillMode> {
  const messages = [...PROBE_MESSAGES, { role: 'assistant', content: 'The answer is' }];
  try {
    const body = { model: ctx.model, messages, max_tokens: 1, temperature: 0, continue_final_message: true, add_generation_prompt: false };
    readChatResponse(await post(ctx, '/chat/completions', body), 'probe');
    notes.push('prefill: continue_final_message accepted; the assistant prefill is continued (mode "continue")');
    return 'continue';
  } catch (e) {
    const r = refusal(e);
    if (!r) throw e;
    notes.push(
      `prefill: continue_final_message refused (${why(r)}); the prefill is sent as a trailing assistant message and ` +
        'the reply is taken as its continuation, though the server may answer it as a new turn (mode "none")',
    );
    return 'none';
  }
}

async function probeEcho(ctx: ProbeContext, notes: string[]): Promise<{ ok: boolean; maxTokens: 0 | 1 }> {
  const text = 'The sky is blue.';
  let last: SclabError | undefined;
  for (const maxTokens of [0, 1] as const) {
    try {
      const res = readCompletionResponse(await post(ctx, '/completions', scoreBody(ctx.model, text, maxTokens)), 'probe');
      const spans = echoedSpans(res, text, 'probe');
      if (!spans.some((s) => s.start > 0 && s.start < text.length && s.logprob !== null)) {
        notes.push('completions echo: prompt tokens came back without log-probabilities');
        return { ok: false, maxTokens };
      }
      notes.push(`completions echo: prompt log-probabilities available (exact option ranks; max_tokens ${maxTokens})`);
      return { ok: true, maxTokens };
    } catch (e) {
      const r = refusal(e);
      if (!r) throw e;
      last = r;
      if (r.code !== 'bad_request') break; // only a 400 might be about max_tokens 0
    }
  }
  const reason = last?.code === 'unsupported' ? 'ignored by the server (prompt tokens not echoed)' : `unsupported (${last ? why(last) : 'no answer'})`;
  notes.push(`completions echo: ${reason}`);
  return { ok: false, maxTokens: 0 };
}

export async function probeCapabilities(ctx: ProbeContext, fixedPrefillMode: PrefillMode | undefined): Promise<ProbeResult> {
  const notes: string[] = [];
  const ids = await listModels(ctx, notes);
  const chat = await probeChat(ctx, ids, notes);
  const topLogprobs = chat ? await probeTopLogprobs(ctx, notes) : false;
  let prefillMode: PrefillMode = fixedPrefillMode ?? 'none';
  if (fixedPrefillMode) notes.push(`prefill: mode "${fixedPrefillMode}" set by the caller`);
  else if (chat) prefillMode = await probePrefill(ctx, notes);
  const echo = await probeEcho(ctx, notes);
  return {
    capabilities: { chat, optionLogprobs: echo.ok, topLogprobs, hiddenStates: false, probeScores: false },
    prefillMode,
    echoMaxTokens: echo.maxTokens,
    notes,
  };
}
