// The blue/green strategy (SPEC §3.4): the canary gets no user traffic (only webhooks and load tests) for
// `iterations` passing ticks, or a mirrored copy of it (mirror: true); then the switch to 100% canary behind
// confirm-promotion, one more analysis tick on it, then promotion and all traffic back on the primary.
import type { SchedulerSpec } from '../types.js';
import type { StrategyChoice } from './strategy.js';
import { iterationMessage, weightsOnly } from './strategy.js';

type Analysis = SchedulerSpec['analysis'];

/** Flagger's default when mirrorWeight is unset: every request is mirrored. */
export const DEFAULT_MIRROR_WEIGHT = 100;

export function blueGreenStrategy(analysis: Analysis): StrategyChoice {
  const total = analysis.iterations ?? 0;
  if (total < 1) return { ok: false, message: 'blue/green needs analysis.iterations of at least 1' };
  const mirrorWeight = analysis.mirrorWeight ?? DEFAULT_MIRROR_WEIGHT;
  if (analysis.mirror && (mirrorWeight < 1 || mirrorWeight > 100))
    return { ok: false, message: 'analysis.mirrorWeight must be 1..100' };
  return {
    ok: true,
    strategy: {
      name: analysis.mirror ? 'blue-green-mirroring' : 'blue-green',
      // Iterations 1..total at weight 0; the switch counts as iteration total+1 (as Flagger), so the tick
      // after it analyses the canary under all the traffic before promotion is confirmed.
      next: ({ canaryWeight, iterations }) => {
        if (iterations < total)
          return {
            kind: 'advance',
            canaryWeight: 0,
            iterations: iterations + 1,
            message: iterationMessage(iterations + 1, total),
          };
        if (canaryWeight < 100)
          return {
            kind: 'advance',
            canaryWeight: 100,
            iterations: total + 1,
            gate: 'confirm-promotion',
            message: analysis.mirror
              ? 'Stop traffic mirroring and route all traffic to the canary'
              : 'Routing all traffic to the canary',
          };
        return { kind: 'complete' };
      },
      promotionWeight: () => 0,
      routes: (canaryWeight) =>
        canaryWeight === 0 && analysis.mirror
          ? { ...weightsOnly(0), mirror: { weightPercent: mirrorWeight } }
          : weightsOnly(canaryWeight),
      finalRoutes: () => weightsOnly(0),
    },
  };
}
