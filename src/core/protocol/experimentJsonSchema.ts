import { z } from 'zod';
import { StrictExperimentSchema } from './experimentSchema';

/** Where the generated schema lives in the repository (editors validate *.sclab.yaml against it). */
export const EXPERIMENT_JSON_SCHEMA_PATH = 'media/schemas/sclab.experiment.schema.json';

/**
 * The JSON schema of experiment files, generated from the strict zod schema (input side: fields with defaults are
 * optional). test/protocol/jsonSchema.test.ts fails when the checked-in file is stale and rewrites it when
 * SCLAB_UPDATE_SCHEMA=1.
 */
export function experimentJsonSchema(): string {
  const schema = z.toJSONSchema(StrictExperimentSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, title: 'Self-Correction Lab experiment', $id: 'sclab.experiment/1' }, null, 2)}\n`;
}
