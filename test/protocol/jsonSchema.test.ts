import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPERIMENT_JSON_SCHEMA_PATH, experimentJsonSchema } from '../../src/core/protocol/experimentJsonSchema';

const file = resolve(__dirname, '../..', EXPERIMENT_JSON_SCHEMA_PATH);

describe('media/schemas/sclab.experiment.schema.json', () => {
  it('is current (regenerate with SCLAB_UPDATE_SCHEMA=1 npx vitest run test/protocol/jsonSchema.test.ts)', () => {
    const generated = experimentJsonSchema();
    if (process.env.SCLAB_UPDATE_SCHEMA === '1') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, generated);
    }
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(generated);
  });

  it('forbids unknown keys and makes defaulted fields optional', () => {
    const schema = JSON.parse(experimentJsonSchema()) as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, { additionalProperties?: boolean }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required.sort()).toEqual(['conditions', 'dataset', 'task']);
    expect(schema.properties.dataset?.additionalProperties).toBe(false);
  });
});
