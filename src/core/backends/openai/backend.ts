import type { Backend, ChatRequest, ChatResult, LabelLogprobsRequest, OptionScoreRequest, OptionScoreResult, TopAlternative } from '../backend';
import { linkSignal } from '../../util/signal';
import { NO_CAPABILITIES } from '../backend';
import type { BackendDescription, Capabilities } from '../../model/manifest';
import { SclabError } from '../../model/errors';
import { estimateTokens, type RequestScheduler } from '../requests';
import { makeClient, makeJsonPost, observingFetch, RequestGate } from './client';
import { createHttpFetch } from './http-fetch';
import { chatBody, chatResult } from './chat';
import { parseEndpoint } from './endpoint';
import { redact } from './errors';
import type { OpenAIBackendOptions, PrefillMode } from './options';
import { firstPositionAlternatives, labelLogprobsBody } from './label-logprobs';
import { probeCapabilities } from './probe';
import { readChatResponse, readCompletionResponse } from './responses';
import { continuationTokens, echoedSpans, scoreBody, sumContinuation } from './score';
import { renderPlainTranscript } from './transcript';

/**
 * A backend for any OpenAI-compatible server (OpenAI, vLLM, SGLang, llama.cpp server, Ollama, LM Studio) through
 * the official SDK. No retries inside: the runner's scheduler retries what the SclabError says is retryable.
 * Before connect() it assumes nothing: no logprobs, prefill mode from the options or "none".
 */
export function createOpenAIBackend(opts: OpenAIBackendOptions): Backend {
  if (!Number.isFinite(opts.requestTimeoutMs) || opts.requestTimeoutMs <= 0) {
    throw new SclabError('config', `requestTimeoutMs must be a positive number of milliseconds (got ${opts.requestTimeoutMs})`);
  }
  if (!opts.model.trim()) throw new SclabError('config', 'the OpenAI-compatible backend needs a model name');
  const endpoint = parseEndpoint(opts.baseUrl);
  const secrets = [...(opts.apiKey ? [opts.apiKey] : []), ...endpoint.secrets];
  // our own node:http fetch unless the caller brings one (see http-fetch.ts for why)
  const httpFetch = opts.fetch ? undefined : createHttpFetch(opts.maxResponseBytes !== undefined ? { maxResponseBytes: opts.maxResponseBytes } : {});
  const gate = new RequestGate(opts.requestTimeoutMs, secrets);
  const fetchImpl = observingFetch(opts.fetch ?? httpFetch!.fetch, gate);
  const client = makeClient(endpoint, opts.apiKey, opts.requestTimeoutMs, fetchImpl);
  // a run's requests (chat, label log-probabilities, option scoring) skip the SDK's per-request cost; connect's
  // probes go through the SDK client
  const post = makeJsonPost(client, opts.apiKey, fetchImpl);
  const render = opts.renderPrompt ?? renderPlainTranscript;
  const model = opts.model;

  let capabilities: Capabilities = { ...NO_CAPABILITIES };
  let prefillMode: PrefillMode = opts.prefillMode ?? 'none';
  let echoMaxTokens: 0 | 1 = 0;

  async function connect(signal?: AbortSignal): Promise<BackendDescription> {
    const found = await probeCapabilities({ client, gate, model, signal }, opts.prefillMode);
    capabilities = found.capabilities;
    prefillMode = found.prefillMode;
    echoMaxTokens = found.echoMaxTokens;
    // the label-probability rank continues the prefill for one token and reads its top-k
    capabilities.labelLogprobs = capabilities.topLogprobs && prefillMode === 'continue';
    const notes = [...endpoint.notes, ...found.notes];
    if (capabilities.optionLogprobs) {
      notes.push(
        opts.renderPrompt
          ? 'option scoring prompt: rendered by the chat template the caller supplied'
          : 'option scoring prompt: a plain "role: content" transcript (no chat template supplied), not the model\'s own template',
      );
    }
    return {
      kind: 'openai',
      model,
      baseUrl: endpoint.publicUrl,
      capabilities: { ...capabilities },
      notes: notes.map((n) => redact(n, secrets)),
    };
  }

  // the request bodies carry server-specific fields (echo, continue_final_message, top_logprobs for completions);
  // every answer is validated by our own readers
  async function chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const body = chatBody(model, req, prefillMode, capabilities.topLogprobs);
    const what = 'POST /chat/completions';
    // only a token budget reads the estimate: the conversation is not serialised a second time for nothing
    const estimatedTokens = () => estimateTokens(JSON.stringify(body.messages), req.decoding.maxTokens);
    const raw = await gate.run(what, signal, (s) => post('/chat/completions', body, s), { estimatedTokens });
    return chatResult(readChatResponse(raw, what));
  }

  async function labelLogprobs(req: LabelLogprobsRequest, signal?: AbortSignal): Promise<TopAlternative[]> {
    if (!capabilities.labelLogprobs) {
      throw new SclabError('unsupported', 'this server does not continue an assistant prefill with top_logprobs (found on connect), so labels cannot be ranked by probability');
    }
    const what = 'POST /chat/completions (label log-probabilities)';
    const raw = await gate.run(what, signal, (s) => post('/chat/completions', labelLogprobsBody(model, req), s));
    return firstPositionAlternatives(readChatResponse(raw, what), what);
  }

  async function scoreOne(prompt: string, continuation: string, signal: AbortSignal | undefined) {
    const text = prompt + continuation;
    const what = 'POST /completions (option scoring)';
    const raw = await gate.run(what, signal, (s) => post('/completions', scoreBody(model, text, echoMaxTokens), s), {
      estimatedTokens: estimateTokens(text, echoMaxTokens),
    });
    const spans = echoedSpans(readCompletionResponse(raw, what), text, what);
    return sumContinuation(continuationTokens(spans, prompt.length, text.length), what);
  }

  async function scoreOptions(req: OptionScoreRequest, signal?: AbortSignal): Promise<OptionScoreResult> {
    if (!capabilities.optionLogprobs) {
      throw new SclabError('unsupported', 'this server gave no prompt log-probabilities on connect (completions echo), so options cannot be scored exactly');
    }
    const prompt = render(req.messages, req.prefill);
    // each request is retried on its own (the gate's scheduler); one that still fails fails the round, so its
    // siblings stop
    const group = linkSignal(signal);
    try {
      const scores = await Promise.all(
        req.continuations.map((c) =>
          scoreOne(prompt, c, group.signal).catch((e: unknown) => {
            group.abort();
            throw e;
          }),
        ),
      );
      return { logprobs: scores.map((s) => s.sum), tokenLogprobs: scores.map((s) => s.perToken) };
    } catch (e) {
      // siblings aborted by the group report 'cancelled'; surface the first real failure instead
      throw signal?.aborted ? new SclabError('cancelled', 'option scoring: cancelled') : e;
    } finally {
      group.unlink();
    }
  }

  return {
    kind: 'openai',
    connect,
    chat,
    scoreOptions,
    attachScheduler(scheduler: RequestScheduler | undefined) {
      gate.scheduler = scheduler;
    },
    labelLogprobs,
    close: async () => {
      gate.abortAll();
      httpFetch?.close();
    },
  };
}
