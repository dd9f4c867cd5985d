// The canary strategy (SPEC §3.4): the canary weight moves by stepWeight up to maxWeight, or through the
// stepWeights list, and back down by stepWeightPromotion (or at once) while promoting; with
// analysis.sessionAffinity, a client the canary answered stays on it (Flagger's cookie routes).
import type { SchedulerSpec } from '../types.js';
import type { RouteState, StrategyChoice } from './strategy.js';
import { weightsOnly } from './strategy.js';

/** Weights are percentages: primary + canary = TOTAL_WEIGHT. */
export const TOTAL_WEIGHT = 100;

type Analysis = SchedulerSpec['analysis'];

/** The weight at which the canary steps are done: the last stepWeights entry if given, else maxWeight. */
export function canaryMaxWeight(analysis: Analysis): number {
  const steps = analysis.stepWeights ?? [];
  return steps.length > 0 ? (steps[steps.length - 1] ?? analysis.maxWeight) : analysis.maxWeight;
}

/**
 * The next canary weight after `current`: the first stepWeights entry above it, or current + stepWeight;
 * never above the max weight (so a maxWeight that is not a multiple of stepWeight is reached exactly).
 */
export function nextCanaryWeight(analysis: Analysis, current: number): number {
  const max = canaryMaxWeight(analysis);
  const steps = analysis.stepWeights ?? [];
  const next =
    steps.length > 0 ? (steps.find((w) => w > current) ?? max) : current + (analysis.stepWeight ?? 0);
  return Math.min(next, max);
}

/** Checks the analysis has weight steps that make progress; a message names the field otherwise. */
function validate(analysis: Analysis): string | undefined {
  const steps = analysis.stepWeights ?? [];
  if (steps.length > 0) {
    const ascending = steps.every((w, i) => w > 0 && (i === 0 || w > (steps[i - 1] ?? 0)));
    return ascending ? undefined : 'analysis.stepWeights must be positive and strictly increasing';
  }
  if ((analysis.stepWeight ?? 0) <= 0) return 'analysis.stepWeight or analysis.stepWeights is required';
  if (analysis.maxWeight <= 0 || analysis.maxWeight > TOTAL_WEIGHT)
    return 'analysis.maxWeight must be 1..100';
  return undefined;
}

/**
 * The session cookie of a run: `<cookieName>=<revision>`, so it is the same on every tick of the run (step() is
 * pure: no random value) and differs from the previous run's.
 */
function withAffinity(analysis: Analysis, routes: RouteState, revision: string): RouteState {
  const affinity = analysis.sessionAffinity;
  if (affinity === undefined) return routes;
  return {
    ...routes,
    sessionAffinity: {
      cookieName: affinity.cookieName,
      cookieValue: revision,
      maxAgeSeconds: affinity.maxAge,
    },
  };
}

export function canaryStrategy(analysis: Analysis): StrategyChoice {
  const invalid = validate(analysis);
  if (invalid !== undefined) return { ok: false, message: invalid };
  const max = canaryMaxWeight(analysis);
  return {
    ok: true,
    strategy: {
      name: 'canary',
      next: ({ canaryWeight, iterations }) => {
        if (canaryWeight >= max) return { kind: 'complete' };
        const next = nextCanaryWeight(analysis, canaryWeight);
        return {
          kind: 'advance',
          canaryWeight: next,
          iterations,
          gate: 'confirm-traffic-increase',
          message: `Advance canary weight to ${next}%`,
        };
      },
      promotionWeight: (canaryWeight) => {
        const step = analysis.stepWeightPromotion ?? 0;
        return step > 0 ? Math.max(0, canaryWeight - step) : 0;
      },
      routes: (canaryWeight, revision) => withAffinity(analysis, weightsOnly(canaryWeight), revision),
      // At weight 0 the session routes expire the run's cookie on the clients that still send it.
      finalRoutes: (revision) => withAffinity(analysis, weightsOnly(0), revision),
    },
  };
}
