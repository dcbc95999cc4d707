/** A child of an abort signal: aborted when its parent is (at once if the parent already is), or on its own. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  abort(): void;
  /** drops the link to the parent: call it when the child's work is done, or a long-lived parent keeps one per child */
  unlink(): void;
}

/**
 * The children of each parent signal in link order, aborted by one listener on the parent: a run's signal links one
 * child per request, and adding and removing a listener on an EventTarget with hundreds of them, per request, costs
 * more than the request's own bookkeeping.
 */
const childrenOf = new WeakMap<AbortSignal, Set<AbortController>>();

/**
 * Links a new controller to `parent`. Not `AbortSignal.any`: on Node 20 a long-lived run signal with one dependent
 * per request keeps every dependent alive until the run ends; here `unlink()` lets each one go.
 */
export function linkSignal(parent: AbortSignal | undefined): LinkedSignal {
  const controller = new AbortController();
  const own = { abort: () => controller.abort() };
  if (!parent || parent.aborted) {
    if (parent) controller.abort();
    return { signal: controller.signal, ...own, unlink: () => undefined };
  }
  let children = childrenOf.get(parent);
  if (!children) {
    const set = (children = new Set());
    childrenOf.set(parent, set);
    parent.addEventListener(
      'abort',
      () => {
        childrenOf.delete(parent);
        for (const c of set) c.abort();
        set.clear();
      },
      { once: true },
    );
  }
  children.add(controller);
  const set = children;
  return { signal: controller.signal, ...own, unlink: () => void set.delete(controller) };
}
