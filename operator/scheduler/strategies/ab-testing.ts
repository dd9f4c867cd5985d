// The A/B testing strategy (SPEC §3.4): requests matching analysis.match go 100% to the canary, the others to
// the primary, for `iterations` passing ticks; then promotion, and the plain primary route again.
import type { SchedulerSpec } from '../types.js';
import type { StrategyChoice } from './strategy.js';
import { iterationMessage, weightsOnly } from './strategy.js';

type Analysis = SchedulerSpec['analysis'];

export function abTestingStrategy(analysis: Analysis): StrategyChoice {
  const total = analysis.iterations ?? 0;
  if (total < 1) return { ok: false, message: 'A/B testing needs analysis.iterations of at least 1' };
  if (analysis.match.length === 0)
    return { ok: false, message: 'A/B testing needs analysis.match conditions' };
  return {
    ok: true,
    strategy: {
      name: 'ab-testing',
      // The matching requests move to the canary with the first iteration (no confirm-traffic-increase, as
      // Flagger), and stay there while the iterations are counted.
      next: ({ iterations }) =>
        iterations >= total
          ? { kind: 'complete' }
          : {
              kind: 'advance',
              canaryWeight: 100,
              iterations: iterations + 1,
              message: iterationMessage(iterations + 1, total),
            },
      promotionWeight: () => 0,
      routes: (canaryWeight) =>
        canaryWeight > 0 ? { ...weightsOnly(canaryWeight), match: analysis.match } : weightsOnly(0),
      finalRoutes: () => weightsOnly(0),
    },
  };
}
