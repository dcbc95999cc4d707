/** Imported first by extension.ts, so the bundle evaluates it first: the start of this extension's own code. */
export const moduleStart = performance.now();
