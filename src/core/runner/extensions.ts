import type { Backend, Steering } from '../backends/backend';
import type { ChatMessage } from '../model/chat';
import type { Condition, Experiment } from '../model/experiment';
import type { Item } from '../model/item';
import type { BackendDescription, ScorerCard } from '../model/manifest';
import type { RoundRecord } from '../model/record';

export interface RoundContext {
  experiment: Experiment;
  item: Item;
  condition: Condition;
  round: number;
  /** the full round input: history and this round's user turn */
  messages: ChatMessage[];
  prefill: string;
  backend: Backend;
  description: BackendDescription;
  signal: AbortSignal;
  /** this condition's intervention; every request of the round (hidden states included) carries it */
  steer?: Steering;
}

/** The fields of a record that extensions may fill. */
export type RecordExtras = Partial<Pick<RoundRecord, 'probes' | 'scores'>>;

/**
 * Work the runner does around each round besides generation: probe scores on the round input (before the answer
 * exists, as the paper measures them), scores of the response (toxicity). Extensions run with the runner's retry
 * policy (their own scheduler's, when they have one); a failure becomes the round's error record like any other per-item failure.
 */
export interface RoundExtension {
  readonly name: string;
  /** the scorers this extension records, for the run's manifest */
  readonly scorerCards?: readonly ScorerCard[];
  /**
   * true: every request it sends goes through a scheduler of its own (a scorer calling another service); the runner
   * calls it directly. Otherwise the runner runs each call through the run's scheduler (slot, budget, retry).
   */
  readonly schedulesOwnRequests?: boolean;
  beforeChat?(ctx: RoundContext): Promise<RecordExtras>;
  afterChat?(ctx: RoundContext & { response: string }): Promise<RecordExtras>;
  /** the intervention of each steered condition, by condition name (the probe extension resolves them) */
  readonly steering?: ReadonlyMap<string, Steering>;
}

export function mergeExtras(into: RecordExtras, extra: RecordExtras): void {
  if (extra.probes) into.probes = { ...into.probes, ...extra.probes };
  if (extra.scores) into.scores = { ...into.scores, ...extra.scores };
}

/** The scorer cards of a run's extensions, or undefined when none scores responses. */
export function scorerCardsOf(extensions: readonly RoundExtension[]): ScorerCard[] | undefined {
  const cards = extensions.flatMap((e) => e.scorerCards ?? []);
  return cards.length > 0 ? cards : undefined;
}
