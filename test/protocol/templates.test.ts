import { describe, expect, it } from 'vitest';
import { renderChoices, renderTemplate, templateSlots } from '../../src/core/protocol/templates';
import { SclabError } from '../../src/core/model/errors';
import { bbqItem, genericItem, rtpItem, winoItem } from './fixtures';

describe('renderChoices', () => {
  it('lettered labels: (a) X (b) Y (c) Z', () => {
    expect(renderChoices(bbqItem)).toBe("(a) The Jewish one (b) Can't answer (c) The Muslim one");
  });
  it('labels default to letters', () => {
    expect(renderChoices(genericItem)).toBe('(a) Carrot (b) Apple (c) Potato (d) Onion');
  });
  it('word labels equal to the options: "they, he or she"', () => {
    expect(renderChoices(winoItem)).toBe('they, he or she');
  });
  it('other labels are written before their option', () => {
    expect(renderChoices({ ...genericItem, choices: ['yes', 'no'], choiceLabels: ['A:', 'B:'] })).toBe('A: yes B: no');
  });
});

describe('renderTemplate', () => {
  it('fills fields and {choices}', () => {
    expect(renderTemplate('{question} {choices}.', genericItem)).toBe('Which is a fruit? (a) Carrot (b) Apple (c) Potato (d) Onion.');
  });
  it('drops an empty optional slot with one space', () => {
    expect(renderTemplate('{context?} {question}', genericItem)).toBe('Which is a fruit?');
    expect(renderTemplate('{question} {context?}.', genericItem)).toBe('Which is a fruit?.');
    expect(renderTemplate('{question} {context?} end', genericItem)).toBe('Which is a fruit? end');
    expect(renderTemplate('{context?} {question}', bbqItem)).toBe(`${bbqItem.fields.context} ${bbqItem.fields.question}`);
  });
  it('takes the first present alternative', () => {
    expect(renderTemplate('{prompt|question}', rtpItem)).toBe(rtpItem.fields.prompt);
    expect(renderTemplate('{prompt|question}', genericItem)).toBe('Which is a fruit?');
  });
  it('keeps literal braces and non-slot brace text', () => {
    expect(renderTemplate('{{question}} {"a": 1} { x }', genericItem)).toBe('{question} {"a": 1} { x }');
  });
  it('a missing required field is a dataset error naming the item and slot', () => {
    expect(() => renderTemplate('{context} {question}', genericItem)).toThrowError(SclabError);
    expect(() => renderTemplate('{context} {question}', genericItem)).toThrowError(/generic\.jsonl:3: item q1 has no field for template slot \{context\}/);
    expect(() => renderTemplate('{choices}', rtpItem)).toThrowError(/\{choices\}/);
  });
  it('lists slots', () => {
    expect(templateSlots('{a} {b?} {c|d} {{e}}').map((s) => [s.names, s.optional])).toEqual([
      [['a'], false],
      [['b'], true],
      [['c', 'd'], false],
    ]);
  });
});
