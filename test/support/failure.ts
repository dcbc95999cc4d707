import { expect } from 'vitest';
import { SclabError } from '../../src/core/model/errors';

/** The SclabError a promise rejects with (fails the test when it resolves or rejects with anything else). */
export async function failure(p: Promise<unknown>): Promise<SclabError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SclabError);
  return e as SclabError;
}
