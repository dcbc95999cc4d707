import path from 'node:path';
import type { Diagnostic } from '../../src/core/model/item';

export const SHARED = path.resolve(__dirname, '../../../shared/datasets');
export const FIXTURES = path.resolve(__dirname, '../fixtures/datasets');
export const fixture = (p: string) => path.join(FIXTURES, p);
export const shared = (p: string) => path.join(SHARED, p);

/** "line:column severity message-start" lines, easy to compare exactly */
export function brief(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.column} ${d.severity} ${d.message}`);
}
export const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
export const warnings = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'warning');
