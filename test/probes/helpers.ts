import type { ProbeFile } from '../../src/core/probes/schema';
import { encodeF32 } from '../../src/core/probes/vectors';

import { dataset } from '../support/data';

export { STORIES, STORIES_SPEC } from '../support/data';
export const JIGSAW = dataset('jigsaw_toxic_sample/jigsaw_sample.csv');
export const DAVIDSON = dataset('davidson_hate_offensive/labeled_data.csv');

export const MODEL = { name: 'toy', nLayers: 2, dModel: 3, weightsSha256: 'ab'.repeat(32) };

/** A small hand-made logistic probe on a 2-layer, width-3 model. */
export function toyProbe(over: Partial<ProbeFile> = {}): ProbeFile {
  return {
    schema: 'sclab.probe/1',
    model: MODEL,
    module: 'residual',
    position: 'last',
    convention: 'sclab',
    kind: 'logistic',
    variant: 'logistic',
    score: 'cosine+probability',
    positiveLabel: 'toxic',
    moralDirection: 'lower',
    band: [1, 2],
    layers: [
      { layer: 0, weights: encodeF32([1, 0, 0]), bias: 0, heldOutAccuracy: 0.5 },
      { layer: 1, weights: [0, 2, 0], bias: -1, heldOutAccuracy: 0.75 },
      { layer: 2, weights: encodeF32([1, 1, 0]), bias: 0.5, heldOutAccuracy: 1 },
    ],
    training: {
      tool: 'sclab',
      toolVersion: '0.0.0',
      date: '2026-01-01T00:00:00.000Z',
      data: { file: 'x.csv', sha256: '00', format: 'csv', textField: 't', labelField: 'l', positive: ['1'], rows: 4 },
      input: { format: 'raw', maxTokens: 16, truncation: 'keep-first', truncated: 0 },
    },
    ...over,
  };
}
