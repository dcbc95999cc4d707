import type { Item } from '../model/item';
import { letterLabels } from '../model/item';
import { SclabError } from '../model/errors';

/**
 * Template syntax for turn texts and prefills:
 * - `{name}`            the item's field `name` (or `{choices}`, the rendered option list); required
 * - `{name?}`           optional: renders as "" when the item lacks the field, and one adjacent space is dropped so
 *                       "{context?} {question}" does not start with a stray space
 * - `{a|b}`             the first of the fields the item has (e.g. `{prompt|question}`); `{a|b?}` is optional
 * - `{{` and `}}`       a literal brace
 * Any other brace text (e.g. JSON in a prompt) is left as it is.
 */
export interface TemplateSlot {
  /** the alternatives, in order of preference */
  names: string[];
  optional: boolean;
  /** the slot as written, e.g. "{context?}" */
  raw: string;
  /** offset of the slot in the template */
  offset: number;
}

type Piece = { text: string } | { slot: TemplateSlot };

const SLOT = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.-]*(?:\|[A-Za-z_][A-Za-z0-9_.-]*)*)(\?)?\}/g;

/** The special slot that renders the item's options. */
export const CHOICES_SLOT = 'choices';

function parsePieces(template: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of template.matchAll(SLOT)) {
    const at = m.index;
    if (at > last) pieces.push({ text: template.slice(last, at) });
    if (m[0] === '{{') pieces.push({ text: '{' });
    else if (m[0] === '}}') pieces.push({ text: '}' });
    else pieces.push({ slot: { names: (m[1] ?? '').split('|'), optional: m[2] === '?', raw: m[0], offset: at } });
    last = at + m[0].length;
  }
  if (last < template.length) pieces.push({ text: template.slice(last) });
  return pieces;
}

/** The slots a template refers to, in order. */
export function templateSlots(template: string): TemplateSlot[] {
  return parsePieces(template).flatMap((p) => ('slot' in p ? [p.slot] : []));
}

/** Whether an item can fill one slot name. */
export function itemHasSlot(item: Item, name: string): boolean {
  if (name === CHOICES_SLOT) return item.choices !== undefined && item.choices.length > 0;
  return Object.prototype.hasOwnProperty.call(item.fields, name);
}

/** The labels an item's options are answered with: its own, or "(a)", "(b)", … */
export function choiceLabelsOf(item: Item): string[] {
  const n = item.choices?.length ?? 0;
  const labels = item.choiceLabels;
  return labels !== undefined && labels.length === n ? labels : letterLabels(n);
}

const LETTERED = /^\([a-z]\)$/i;

/** true when the labels are "(a)", "(b)", … rather than words */
export function isLetteredLabel(label: string): boolean {
  return LETTERED.test(label);
}

/**
 * The option list as the model sees it: "(a) X (b) Y (c) Z" for lettered labels (the paper's BBQ form); "X, Y or Z"
 * when the labels are the option words themselves (Winogender's they/he/she); "label X label Y" otherwise.
 */
export function renderChoices(item: Item): string {
  const choices = item.choices ?? [];
  const labels = choiceLabelsOf(item);
  const labelsAreTheWords = choices.every((c, i) => c.trim().toLowerCase() === (labels[i] ?? '').trim().toLowerCase());
  if (labelsAreTheWords && !labels.every(isLetteredLabel)) {
    if (choices.length <= 1) return choices.join('');
    return `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`;
  }
  return choices.map((c, i) => `${labels[i] ?? ''} ${c}`).join(' ');
}

function slotValue(item: Item, slot: TemplateSlot): string | undefined {
  for (const name of slot.names) {
    if (!itemHasSlot(item, name)) continue;
    return name === CHOICES_SLOT ? renderChoices(item) : item.fields[name];
  }
  return undefined;
}

/**
 * Fill a template from an item. A required slot the item cannot fill is a dataset problem (the item lacks a field
 * the experiment needs): SclabError('dataset') naming the item, its source line and the slot.
 */
export function renderTemplate(template: string, item: Item): string {
  let out = '';
  // set after an empty optional slot: one space next to it goes too, so "{context?} {question}" has no stray space
  let emptySlotPending = false;
  const dropOneSpace = (text: string): string => {
    if (/^[ \t]/.test(text)) return text.slice(1);
    if (/[ \t]$/.test(out)) out = out.slice(0, -1);
    return text;
  };
  for (const piece of parsePieces(template)) {
    if ('text' in piece) {
      const text = emptySlotPending ? dropOneSpace(piece.text) : piece.text;
      out += text;
      emptySlotPending = false;
      continue;
    }
    const value = slotValue(item, piece.slot);
    if (value === undefined && !piece.slot.optional) {
      throw new SclabError(
        'dataset',
        `${item.source.file}:${item.source.line}: item ${item.id} has no field for template slot ${piece.slot.raw}` +
          ` (its fields: ${Object.keys(item.fields).join(', ') || 'none'}${item.choices ? ', choices' : ''})`,
      );
    }
    if (value === undefined || value === '') {
      emptySlotPending = true;
      continue;
    }
    out += value;
    emptySlotPending = false;
  }
  if (emptySlotPending) dropOneSpace('');
  return out;
}
