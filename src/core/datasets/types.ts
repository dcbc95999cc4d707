import type { Diagnostic, Item } from '../model/item';

export type DatasetFormat =
  | 'bbq-jsonl'
  | 'bbq-ambig-tsv'
  | 'winogender-templates'
  | 'winogender-sentences'
  | 'rtp-jsonl'
  | 'generic-jsonl'
  | 'generic-csv'
  | 'generic-tsv';

export const DATASET_FORMATS: readonly DatasetFormat[] = [
  'bbq-jsonl',
  'bbq-ambig-tsv',
  'winogender-templates',
  'winogender-sentences',
  'rtp-jsonl',
  'generic-jsonl',
  'generic-csv',
  'generic-tsv',
];

/** What callers may ask for: a concrete format, 'auto' (detect), or 'generic' (the experiment file's word for generic-*). */
export type RequestedFormat = DatasetFormat | 'auto' | 'generic';

export interface ReadOptions {
  format?: RequestedFormat;
  signal?: AbortSignal;
}

/** One event of a streaming read: an item, or a diagnostic about a row. */
export type DatasetEvent = { item: Item } | { diagnostic: Diagnostic };

export interface LoadedDataset {
  path: string;
  format: DatasetFormat;
  /** hex SHA-256 of the file's bytes */
  sha256: string;
  items: Item[];
  diagnostics: Diagnostic[];
}

export interface ValidationReport {
  format: DatasetFormat | null;
  items: number;
  mcq: number;
  generation: number;
  diagnostics: Diagnostic[];
}
