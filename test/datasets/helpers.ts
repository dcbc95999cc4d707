import path from 'node:path';
import type { Diagnostic } from '../../src/core/model/item';

export const FIXTURES = path.resolve(__dirname, '../fixtures/datasets');
export const fixture = (p: string) => path.join(FIXTURES, p);

/** "line:column severity message-start" lines, easy to compare exactly */
export function brief(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.column} ${d.severity} ${d.message}`);
}
export const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
export const warnings = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'warning');
