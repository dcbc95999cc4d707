// An in-process test double of a remote model server, for testing the runner's scheduling and bookkeeping.
// (The real OpenAI-compatible client is tested against a local HTTP server in test/backends and test/cli.)
import type { Backend, ChatRequest, ChatResult, LabelLogprobsRequest, OptionScoreRequest, OptionScoreResult, TopAlternative } from '../../src/core/backends/backend';
import type { BackendDescription } from '../../src/core/model/manifest';

export interface ScriptedBackendOptions {
  model?: string;
  /** decides the reply to each chat request; may throw to inject failures */
  reply?: (req: ChatRequest, call: number) => string | Promise<string>;
  scoreOptions?: (req: OptionScoreRequest) => OptionScoreResult;
  /** the top-k after the prefill plus the opening (the label-probability rank); present = capability */
  labelLogprobs?: (req: LabelLogprobsRequest) => TopAlternative[];
  delayMs?: number;
}

export class ScriptedBackend implements Backend {
  readonly kind = 'openai' as const;
  readonly chats: ChatRequest[] = [];
  readonly scores: OptionScoreRequest[] = [];
  scoreOptions?: (req: OptionScoreRequest, signal?: AbortSignal) => Promise<OptionScoreResult>;
  readonly labelRequests: LabelLogprobsRequest[] = [];
  labelLogprobs?: (req: LabelLogprobsRequest, signal?: AbortSignal) => Promise<TopAlternative[]>;

  constructor(private readonly opts: ScriptedBackendOptions = {}) {
    if (opts.scoreOptions) {
      const score = opts.scoreOptions;
      this.scoreOptions = async (req) => {
        this.scores.push(req);
        return score(req);
      };
    }
    if (opts.labelLogprobs) {
      const label = opts.labelLogprobs;
      this.labelLogprobs = async (req) => {
        this.labelRequests.push(req);
        return label(req);
      };
    }
  }

  async connect(): Promise<BackendDescription> {
    return {
      kind: 'openai',
      model: this.opts.model ?? 'scripted',
      baseUrl: 'http://127.0.0.1:9/v1',
      capabilities: { chat: true, optionLogprobs: this.opts.scoreOptions !== undefined, topLogprobs: this.opts.labelLogprobs !== undefined, labelLogprobs: this.opts.labelLogprobs !== undefined, hiddenStates: false, probeScores: false },
      notes: [],
    };
  }

  async chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const call = this.chats.length;
    this.chats.push(req);
    if (this.opts.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.opts.delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      });
    }
    const text = await (this.opts.reply ?? (() => ' (c)'))(req, call);
    return { text, finishReason: 'stop' };
  }

  async close(): Promise<void> {}
}
