/** A child of an abort signal: aborted when its parent is (at once if the parent already is), or on its own. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  abort(): void;
  /** drops the listener on the parent: call it when the child's work is done, or a long-lived parent keeps one per child */
  unlink(): void;
}

/**
 * Links a new controller to `parent`. Not `AbortSignal.any`: on Node 20 a long-lived run signal with one dependent
 * per request keeps every dependent alive until the run ends; here `unlink()` lets each one go.
 */
export function linkSignal(parent: AbortSignal | undefined): LinkedSignal {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    unlink: () => parent?.removeEventListener('abort', onAbort),
  };
}
