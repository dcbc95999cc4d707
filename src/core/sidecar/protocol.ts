// The sidecar protocol (sclab.sidecar/1): request and response shapes, validated with zod on both sides. Field
// names are snake_case on the wire (Python servers implement the same protocol); docs/sidecar-protocol.md is the
// prose version of this file.
import { z } from 'zod';
import { ChatMessageSchema } from '../model/chat';

export const SIDECAR_PROTOCOL = 'sclab.sidecar/1';

/** wire names of the modules; 'resid' is our 'residual' */
export const WIRE_MODULES = ['resid', 'attn', 'mlp'] as const;
export type WireModule = (typeof WIRE_MODULES)[number];
export const WIRE_POSITIONS = ['last', 'mean', 'all'] as const;
export const WIRE_CONVENTIONS = ['sclab', 'hf'] as const;
export const WIRE_ENCODINGS = ['json', 'base64-f32'] as const;
export type WireEncoding = (typeof WIRE_ENCODINGS)[number];

export const toEngineModule = (m: WireModule): 'residual' | 'attn' | 'mlp' => (m === 'resid' ? 'residual' : m);
export const toWireModule = (m: 'residual' | 'attn' | 'mlp'): WireModule => (m === 'residual' ? 'resid' : m);

/** The model input's rule: a text under `key`, or a conversation in "messages" (which an assistant "prefill" continues). */
function textOrMessages<K extends 'prompt' | 'context'>(key: K) {
  return (v: { [k in K]?: string } & { messages?: unknown; prefill?: string }, ctx: z.RefinementCtx): void => {
    if ((v[key] === undefined) === (v.messages === undefined)) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of "${key}" (text) or "messages" (a conversation)`, path: [key] });
    }
    if (v.prefill !== undefined && v.messages === undefined) {
      ctx.addIssue({ code: 'custom', message: '"prefill" continues an assistant turn: it needs "messages"', path: ['prefill'] });
    }
  };
}

/** the model input: raw text, or a conversation rendered by the model's chat format (+ an assistant prefill) */
export const InputSchema = z
  .object({
    prompt: z.string().optional(),
    messages: z.array(ChatMessageSchema).min(1).optional(),
    prefill: z.string().optional(),
  })
  .superRefine(textOrMessages('prompt'));
export type SidecarInput = z.infer<typeof InputSchema>;

/**
 * capability `steer`: a residual-stream intervention for every forward pass of the request. Each layer l (1…n_layers:
 * the output of decoder layer l) gets its direction, scaled to length 1: add → h + alpha·u, ablate → h − (h·u)u, at
 * every token (positions "all") or from the first token of the last user message on (positions "input", messages only).
 */
export const SteerWireSchema = z
  .object({
    mode: z.enum(['add', 'ablate']).default('add'),
    alpha: z.number().default(0),
    layers: z
      .array(z.object({ layer: z.number().int().positive(), direction: z.union([z.array(z.number()), z.string()]) }).strict())
      .min(1)
      .max(4096),
    positions: z.enum(['all', 'input']).default('all'),
  })
  .strict();
export type SteerWire = z.input<typeof SteerWireSchema>;
const steerField = { steer: SteerWireSchema.optional() };

const LayersSchema = z.union([z.literal('all'), z.array(z.number().int().nonnegative()).min(1).max(4096)]);

export const HiddenStatesRequestSchema = z.intersection(
  InputSchema,
  z.object({
    layers: LayersSchema.default('all'),
    position: z.enum(WIRE_POSITIONS).default('last'),
    module: z.enum(WIRE_MODULES).default('resid'),
    convention: z.enum(WIRE_CONVENTIONS).default('sclab'),
    encoding: z.enum(WIRE_ENCODINGS).default('json'),
    ...steerField,
  }),
);
export type HiddenStatesWireRequest = z.input<typeof HiddenStatesRequestSchema>;

/** POST /v1/tokenize: the ids the server runs the model on for an input (what the client compares with the
 * generation server's own POST /tokenize at connect) */
export const TokenizeRequestSchema = InputSchema;
export const TokenizeResponseSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  /** the rendered text (the chat template's, with the prefill continued) */
  text: z.string(),
  tokens: z.array(z.number().int().nonnegative()),
  bos_id: z.number().int().nonnegative().nullish(),
});
export type TokenizeWireResponse = z.infer<typeof TokenizeResponseSchema>;

/** a float vector on the wire: a JSON array, or base64 of little-endian float32 */
const VectorSchema = z.union([z.array(z.number()), z.string()]);

export const HiddenStatesResponseSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  module: z.enum(WIRE_MODULES),
  position: z.enum(WIRE_POSITIONS),
  convention: z.enum(WIRE_CONVENTIONS),
  encoding: z.enum(WIRE_ENCODINGS),
  /** which layer each entry of `layers` is: resid 0 = embeddings, l = after layer l; attn/mlp l = layer l (1-based) */
  layer_ids: z.array(z.number().int().nonnegative()),
  dim: z.number().int().positive(),
  n_tokens: z.number().int().positive(),
  /** positions of special tokens (BOS, chat-template markers); "mean" averages the other positions */
  special_positions: z.array(z.number().int().nonnegative()).optional(),
  /** one vector per layer id: [dim], or [n_tokens * dim] row-major for position "all" */
  layers: z.array(VectorSchema),
});
export type HiddenStatesWireResponse = z.infer<typeof HiddenStatesResponseSchema>;

/** a probe: the id of one the server was started with, or an inline probe file (schema sclab.probe/1) with a name */
export const ProbeRefWireSchema = z.union([
  z.object({ id: z.string().min(1) }).strict(),
  z.object({ name: z.string().min(1).optional(), probe: z.record(z.string(), z.unknown()) }).strict(),
]);

export const ProbeScoresRequestSchema = z.intersection(InputSchema, z.object({ probes: z.array(ProbeRefWireSchema).min(1).max(64) }));
export type ProbeScoresWireRequest = z.input<typeof ProbeScoresRequestSchema>;

export const ProbeScoresResponseSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  /** one entry per requested probe, in request order */
  scores: z.array(
    z.object({
      /** the id, or the inline probe's name (default "probes[i]") */
      probe: z.string(),
      module: z.enum(WIRE_MODULES),
      position: z.literal('last'),
      convention: z.enum(WIRE_CONVENTIONS),
      /** the probe file's layers, in its order */
      layer_ids: z.array(z.number().int().nonnegative()),
      /** cosine between the probe's vector and the hidden state, per layer (null where undefined, e.g. a zero state) */
      cosine: z.array(z.number().nullable()),
      /** logistic probes: sigmoid(w·h + b) per layer */
      probability: z.array(z.number().nullable()).optional(),
    }),
  ),
});
export type ProbeScoresWireResponse = z.infer<typeof ProbeScoresResponseSchema>;

export const LoglikelihoodRequestSchema = z
  .object({
    /** the context as raw text, or messages (+ prefill) rendered by the model's chat format */
    context: z.string().optional(),
    messages: z.array(ChatMessageSchema).min(1).optional(),
    prefill: z.string().optional(),
    continuations: z.array(z.string()).min(1).max(64),
    ...steerField,
  })
  .superRefine(textOrMessages('context'));
export type LoglikelihoodWireRequest = z.input<typeof LoglikelihoodRequestSchema>;

export const LoglikelihoodResponseSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  results: z.array(
    z.object({
      /** summed log-likelihood of the continuation's tokens */
      sum: z.number(),
      /** the continuation's tokens (text pieces) and each one's log-probability given everything before it */
      tokens: z.array(z.string()),
      logprobs: z.array(z.number()),
    }),
  ),
});
export type LoglikelihoodWireResponse = z.infer<typeof LoglikelihoodResponseSchema>;

/** POST /v1/generate: one answer to a prompt or conversation, optionally steered */
export const GenerateRequestSchema = z.intersection(
  InputSchema,
  z.object({
    max_tokens: z.number().int().nonnegative().max(1_000_000).default(16),
    temperature: z.number().nonnegative().default(0),
    top_p: z.number().gt(0).max(1).default(1),
    seed: z.number().int().nonnegative().optional(),
    stop: z.array(z.string()).max(16).default([]),
    ...steerField,
  }),
);
export type GenerateWireRequest = z.input<typeof GenerateRequestSchema>;

export const GenerateResponseSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  text: z.string(),
  /** 'stop': end of sequence or a stop sequence; 'length': max_tokens or the context */
  finish_reason: z.enum(['stop', 'length']),
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
export type GenerateWireResponse = z.infer<typeof GenerateResponseSchema>;

export const InfoSchema = z.object({
  protocol: z.literal(SIDECAR_PROTOCOL),
  model: z.string(),
  n_layers: z.number().int().positive(),
  d_model: z.number().int().positive(),
  modules: z.array(z.enum(WIRE_MODULES)),
  capabilities: z.object({
    hidden_states: z.boolean(),
    probe_scores: z.boolean(),
    loglikelihood: z.boolean(),
    /** OpenAI-compatible /v1/chat/completions and /v1/completions on the same server */
    openai: z.boolean().default(false),
    /** POST /v1/generate (sclab's own generation route) */
    generate: z.boolean().default(false),
    /** `steer` on /v1/generate, /v1/loglikelihood and /v1/hidden_states */
    steer: z.boolean().default(false),
  }),
  /** what a probe file records; weights_sha256 as our engine computes it (one file: its sha256; several: sha256 of sorted "digest  name" lines) */
  identity: z.object({ name: z.string(), n_layers: z.number().int(), d_model: z.number().int(), weights_sha256: z.string() }).optional(),
  limits: z
    .object({ max_body_bytes: z.number().int().positive(), max_prompt_chars: z.number().int().positive(), max_tokens: z.number().int().positive().optional() })
    .optional(),
  /** the program behind the protocol, e.g. "sclab serve 0.1.0" or "sclab-sidecar.py (transformers 5.17.0)" */
  implementation: z.string().optional(),
  probes: z.array(z.string()).optional(),
});
export type SidecarInfo = z.infer<typeof InfoSchema>;

/** every error answer: {error: {code, message}} */
export const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** wire error codes and their HTTP status */
export const WIRE_ERRORS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  too_large: 413,
  prompt_too_long: 413,
  unsupported_media_type: 415,
  unsupported: 501,
  cancelled: 499,
  internal: 500,
} as const;
export type WireErrorCode = keyof typeof WIRE_ERRORS;
