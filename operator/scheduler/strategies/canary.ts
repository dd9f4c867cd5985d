// The canary strategy (SPEC §3.4): the canary weight moves by stepWeight up to maxWeight, or through the
// stepWeights list, and back down by stepWeightPromotion (or at once) while promoting.
import type { SchedulerSpec } from '../types.js';
import type { StrategyChoice } from './strategy.js';

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

export function canaryStrategy(analysis: Analysis): StrategyChoice {
  const invalid = validate(analysis);
  if (invalid !== undefined) return { ok: false, message: invalid };
  const max = canaryMaxWeight(analysis);
  return {
    ok: true,
    strategy: {
      name: 'canary',
      next: ({ canaryWeight, iterations }) =>
        canaryWeight >= max
          ? { kind: 'complete' }
          : { kind: 'advance', canaryWeight: nextCanaryWeight(analysis, canaryWeight), iterations },
      promotionWeight: (canaryWeight) => {
        const step = analysis.stepWeightPromotion ?? 0;
        return step > 0 ? Math.max(0, canaryWeight - step) : 0;
      },
    },
  };
}
