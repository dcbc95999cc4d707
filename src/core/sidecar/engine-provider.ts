// The embedded engine as a sidecar provider: what `sclab serve` answers with.
import type { HiddenStatesResult, Steering } from '../backends/backend';
import { resolveSteering } from '../backends/steering';
import type { ChatMessage } from '../model/chat';
import { alignContinuations } from '../engine/continuations';
import type { EngineClient, Steered } from '../engine/client';
import type { GenerateResult } from '../engine/session';
import type { SidecarInput } from './protocol';
import type { Completion, ContinuationLikelihood, Generated, GenerationParams, HiddenQuery, ProviderInfo, SidecarProvider, TokenWithLogprob } from './provider';
import { WireError } from './wire-error';

export interface EngineProviderOptions {
  /** started by the caller; closed with the provider */
  client: EngineClient;
  /** the name clients use for the model (default: the engine's model name) */
  modelName?: string;
  implementation: string;
}

export function createEngineProvider(opts: EngineProviderOptions): SidecarProvider {
  const client = opts.client;
  const infoOnce = client.info();

  const textOf = async (input: SidecarInput, signal?: AbortSignal): Promise<string> =>
    input.messages ? client.render(input.messages, input.prefill ?? '', { signal }) : input.prompt!;

  const checkLength = async (n: number): Promise<void> => {
    const max = (await infoOnce).config.maxSeqLen;
    if (n > max) throw new WireError('prompt_too_long', `the input is ${n} tokens; the model's context holds ${max}`);
  };

  /**
   * Text pieces of ids, each the text it adds after what precedes it. Decoded in a window of the 4 tokens before it
   * (so the tokenizer's spacing rules apply) rather than from the start: two short decodes per token, not a growing one.
   */
  const pieces = async (before: number[], ids: number[], signal?: AbortSignal): Promise<string[]> => {
    const all = before.concat(ids);
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const at = before.length + i;
      const window = all.slice(Math.max(0, at - 4), at);
      const prev = await client.decode(window, { signal });
      const now = await client.decode(window.concat(all[at]!), { signal });
      out.push(now.startsWith(prev) ? now.slice(prev.length) : await client.decode([all[at]!], { signal }));
    }
    return out;
  };

  const generated = async (prompt: number[], r: GenerateResult, signal?: AbortSignal): Promise<Generated> => {
    const texts = await pieces(prompt, r.tokens, signal);
    const tokens: TokenWithLogprob[] = r.tokens.map((_, i) => {
      const t: TokenWithLogprob = { text: texts[i]!, logprob: r.logprobs[i]! };
      const alts = r.topLogprobs?.[i];
      if (alts) t.top = alts.map((a) => ({ token: a.token, logprob: a.logprob }));
      return t;
    });
    return { text: r.text, finishReason: r.finishReason === 'length' ? 'length' : 'stop', tokens, promptTokens: r.promptTokens };
  };

  const run = async (ids: number[], p: GenerationParams, signal?: AbortSignal, steered: Steered = {}): Promise<GenerateResult> => {
    const { maxSeqLen } = (await infoOnce).config;
    return client.generate(
      ids,
      {
        maxTokens: Math.min(p.maxTokens, Math.max(0, maxSeqLen - ids.length)),
        temperature: p.temperature,
        topP: p.topP,
        stop: p.stop,
        topLogprobs: p.topLogprobs,
        ...(p.seed !== undefined ? { seed: p.seed } : {}),
      },
      { signal, ...steered },
    );
  };

  return {
    async info(): Promise<ProviderInfo> {
      const i = await infoOnce;
      return {
        model: opts.modelName ?? i.identity.name,
        nLayers: i.config.nLayers,
        dModel: i.config.dim,
        identity: i.identity,
        maxTokens: i.config.maxSeqLen,
        implementation: opts.implementation,
      };
    },

    steers: true,

    async hiddenStates(input: SidecarInput, q: HiddenQuery, signal?: AbortSignal, steer?: Steering): Promise<HiddenStatesResult> {
      const { config } = await infoOnce;
      const lo = q.module === 'residual' ? 0 : 1;
      // a layer asked for twice is answered once, in the order first asked
      const layers = q.layers === 'all' ? Array.from({ length: config.nLayers + 1 - lo }, (_, i) => i + lo) : [...new Set(q.layers)];
      const bad = layers.find((l) => l < lo || l > config.nLayers);
      if (bad !== undefined) throw new WireError('bad_request', `layer ${bad} does not exist for module ${q.module === 'residual' ? 'resid' : q.module}: choose ${lo}…${config.nLayers}`);
      const ids = (await client.tokenize([await textOf(input, signal)], undefined, { signal }))[0]!;
      if (ids.length === 0) throw new WireError('bad_request', 'the input is empty and the model has no BOS token: nothing to run');
      await checkLength(ids.length);
      const h = await client.hidden(ids, { position: q.position, modules: [q.module], convention: q.convention }, { signal, ...(await resolveSteering(client, { steer, messages: input.messages, ids }, signal)) });
      const all = h[q.module]!;
      return { module: q.module, position: q.position, convention: q.convention, layers, vectors: layers.map((l) => all[l - lo]!), dim: h.dim, nTokens: h.nTokens, specialPositions: h.specialPositions ?? [] };
    },

    async tokenize(input: SidecarInput, signal?: AbortSignal): Promise<{ text: string; ids: number[]; bosId: number | null }> {
      const text = await textOf(input, signal);
      const ids = (await client.tokenize([text], undefined, { signal }))[0]!;
      await checkLength(ids.length);
      return { text, ids, bosId: (await infoOnce).bosId };
    },

    async loglikelihood(input: SidecarInput, continuations: string[], signal?: AbortSignal, steer?: Steering): Promise<ContinuationLikelihood[]> {
      const text = await textOf(input, signal);
      const [context, ...wholes] = await client.tokenize([text, ...continuations.map((c) => text + c)], undefined, { signal });
      if (context!.length === 0) throw new WireError('bad_request', 'the context is empty and the model has no BOS token: nothing to predict from');
      await checkLength(Math.max(...wholes.map((w) => w.length)));
      const aligned = alignContinuations(context!, wholes);
      const scores = await client.score(aligned.prefixIds, aligned.continuations, { signal, ...(await resolveSteering(client, { steer, messages: input.messages, ids: context! }, signal)) });
      const out: ContinuationLikelihood[] = [];
      for (let i = 0; i < scores.length; i++) {
        const from = aligned.inputTokens[i]!;
        const ids = aligned.continuations[i]!;
        const logprobs = scores[i]!.logprobs.slice(from);
        const tokens = await pieces(aligned.prefixIds.concat(ids.slice(0, from)), ids.slice(from), signal);
        out.push({ sum: logprobs.reduce((a, b) => a + b, 0), tokens, logprobs });
      }
      return out;
    },

    async generate(input: SidecarInput, p: GenerationParams, signal?: AbortSignal, steer?: Steering): Promise<Generated> {
      const ids = (await client.tokenize([await textOf(input, signal)], undefined, { signal }))[0]!;
      if (ids.length === 0) throw new WireError('bad_request', 'the input is empty and the model has no BOS token: nothing to continue');
      await checkLength(ids.length);
      return generated(ids, await run(ids, p, signal, await resolveSteering(client, { steer, messages: input.messages, ids }, signal)), signal);
    },

    async chat(messages: ChatMessage[], prefill: string, p: GenerationParams, signal?: AbortSignal): Promise<Generated> {
      const ids = (await client.tokenize([await client.render(messages, prefill, { signal })], undefined, { signal }))[0]!;
      await checkLength(ids.length);
      return generated(ids, await run(ids, p, signal), signal);
    },

    async complete(prompt: string, echo: boolean, p: GenerationParams, signal?: AbortSignal): Promise<Completion> {
      const info = await infoOnce;
      const ids = (await client.tokenize([prompt], undefined, { signal }))[0]!;
      if (ids.length === 0) throw new WireError('bad_request', 'the prompt is empty and the model has no BOS token: nothing to predict from');
      await checkLength(ids.length);
      const result: Completion = { generated: p.maxTokens > 0 ? await generated(ids, await run(ids, p, signal), signal) : { text: '', finishReason: 'length', tokens: [], promptTokens: ids.length } };
      if (echo) {
        // BOS is not part of the text: the first text token is scored after it; without BOS it has no context
        const bos = info.addBos && info.bosId !== null && ids[0] === info.bosId;
        const textIds = bos ? ids.slice(1) : ids;
        const [s] = textIds.length > (bos ? 0 : 1) ? await client.score(ids.slice(0, 1), [ids.slice(1)], { signal }) : [{ logprobs: [] as number[] }];
        const lps: Array<number | null> = bos ? s!.logprobs : [null, ...s!.logprobs];
        const texts = await pieces(bos ? ids.slice(0, 1) : [], textIds, signal);
        result.echoed = textIds.map((_, i) => ({ text: texts[i]!, logprob: lps[i] ?? null }));
      }
      return result;
    },

    close: () => client.close(),
  };
}
