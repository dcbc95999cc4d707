import { z } from 'zod';
import { ChatMessageSchema, DecodingSchema } from '../model/chat';
import { BackendRefSchema, ConditionSchema, InterventionRefSchema, DatasetRefSchema, ExperimentSchema, ProbeRefSchema, ScorerRefSchema, TurnTemplateSchema } from '../model/experiment';

/**
 * The experiment schema as files are checked against it: the model's ExperimentSchema with every object strict
 * (an unknown key — usually a typo — is an error, not silently dropped) and with descriptions for editors (the
 * JSON schema in media/schemas is generated from this). It parses to the same Experiment type.
 */
const StrictTurn = TurnTemplateSchema.extend({
  user: TurnTemplateSchema.shape.user.describe(
    'the user text; {field} fills in an item field ({context}, {question}, {sentence}, {prompt}, …), {choices} the options as "(a) X (b) Y", {field?} is optional, {a|b} takes the first present, {{ and }} are literal braces',
  ),
  prefill: TurnTemplateSchema.shape.prefill.describe('the start of the assistant answer; the model continues it'),
}).strict();

const StrictCondition = ConditionSchema.extend({
  name: ConditionSchema.shape.name.describe('unique within the experiment; letters, digits, ".", "_" or "-"'),
  kind: ConditionSchema.shape.kind.describe('what the condition is for: baseline, self-correct, control (e.g. negation) or variant'),
  turns: z
    .array(StrictTurn)
    .min(1)
    .describe('round r (counting from 0) uses turns[min(r, last)]: give one turn to repeat it, or round 1 then the review turn'),
  rounds: ConditionSchema.shape.rounds.describe('how many rounds; the history of every earlier round is carried into each later one'),
  intervention: InterventionRefSchema.strict()
    .optional()
    .describe('steer every forward pass of this condition along a probe\'s direction: {probe, layers: "12-20", alpha} or {probe, layers, ablate: true}; alpha: [-8, -4, 0, 4, 8] expands into one condition per value'),
}).strict();

const StrictDataset = DatasetRefSchema.extend({
  path: DatasetRefSchema.shape.path.describe('the dataset file; a relative path is relative to this experiment file'),
  filter: DatasetRefSchema.shape.filter.describe('keep only items whose field or metadata value is one of the given values, e.g. contextCondition: [ambig]'),
  limit: DatasetRefSchema.shape.limit.describe('use only the first N items (after filtering)'),
}).strict();

const StrictDecoding = DecodingSchema.strict();

export const StrictExperimentSchema = ExperimentSchema.extend({
  dataset: StrictDataset,
  conditions: z.array(StrictCondition).min(1).describe('the conditions to run, each over every item'),
  decoding: StrictDecoding.default(StrictDecoding.parse({})).describe('temperature 0 is greedy decoding (the paper); maxTokens 8 for multiple choice, 125 for generation in the paper'),
  preamble: z.array(ChatMessageSchema.strict()).default([]).describe('messages put before the first user turn, e.g. a system prompt (sent as written, no template slots)'),
  conversation: ExperimentSchema.shape.conversation.describe('chat: real multi-turn messages; raw: the authors\' style, one "[INST] … [/INST]" string per round'),
  answerParsing: ExperimentSchema.shape.answerParsing.describe('paper: the gold label occurring anywhere in the lower-cased answer counts; first-option: exactly one option may be named'),
  backend: BackendRefSchema.strict().optional(),
  probes: z.array(ProbeRefSchema.strict()).default([]).describe('probes scored on the hidden states of every round input (needs a backend with hidden states)'),
  scorers: z.array(ScorerRefSchema.strict()).default([]).describe('scorers applied to every generated response, e.g. toxicity; a generation experiment without any gets the built-in offline toxicity scorer ({name: toxicity, kind: offline}, no model file)'),
})
  .strict()
  .describe('A Self-Correction Lab experiment (*.sclab.yaml)');

type AnySchema = z.core.$ZodType;

/** The keys an object in the schema accepts at a path (for "did you mean" hints); [] where there is no object. */
export function allowedKeysAt(path: ReadonlyArray<PropertyKey>, schema: AnySchema = StrictExperimentSchema): string[] {
  let node: AnySchema | undefined = schema;
  const unwrap = (s: AnySchema): AnySchema => {
    let cur = s;
    for (;;) {
      const def = cur._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
      if (def.innerType !== undefined) cur = def.innerType;
      else if (def.type === 'pipe' && def.in !== undefined) cur = def.in;
      else return cur;
    }
  };
  for (const key of path) {
    if (node === undefined) return [];
    const def = unwrap(node)._zod.def as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema };
    if (def.type === 'object' && typeof key === 'string') node = def.shape?.[key];
    else if (def.type === 'array') node = def.element;
    else return [];
  }
  if (node === undefined) return [];
  const def = unwrap(node)._zod.def as { type: string; shape?: Record<string, AnySchema> };
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}
