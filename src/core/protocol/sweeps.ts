// Intervention sweeps: a condition whose intervention lists several alphas becomes one condition per alpha, so the
// planner, the records and the manifest only ever see one number. Browser-safe.
import type { Condition, Experiment } from '../model/experiment';
import type { SourceLocator } from './yamlLocator';

/** "steer" + 4 → "steer.alpha4"; −0.5 → "steer.alpha-0.5" (letters, digits, ".", "-" only) */
export function sweepConditionName(name: string, alpha: number): string {
  return `${name}.alpha${alpha}`;
}

/** The experiment with every alpha list expanded, and for each resulting condition the index it came from. */
export function expandSweeps(exp: Experiment): { experiment: Experiment; origin: number[] } {
  const conditions: Condition[] = [];
  const origin: number[] = [];
  exp.conditions.forEach((c, i) => {
    const alpha = c.intervention?.alpha;
    if (!c.intervention || !Array.isArray(alpha)) {
      conditions.push(c);
      origin.push(i);
      return;
    }
    for (const a of alpha) {
      conditions.push({ ...c, name: sweepConditionName(c.name, a), intervention: { ...c.intervention, alpha: a } });
      origin.push(i);
    }
  });
  return { experiment: { ...exp, conditions }, origin };
}

/** A locator for the expanded experiment: conditions[k] is found where its unexpanded condition was written. */
export function sweptLocator(loc: SourceLocator, origin: readonly number[]): SourceLocator {
  const map = (path: Parameters<SourceLocator['locate']>[0]) => (path[0] === 'conditions' && typeof path[1] === 'number' ? ['conditions', origin[path[1]] ?? path[1], ...path.slice(2)] : path);
  return { file: loc.file, locate: (p) => loc.locate(map(p)), locateKey: (p, k) => loc.locateKey(map(p), k) };
}
