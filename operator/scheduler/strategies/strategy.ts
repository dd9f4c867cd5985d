// The Strategy interface step() drives (SPEC §3.4) and the choice of strategy from the analysis spec, made
// as Flagger makes it. Only canary is implemented; the others are reported, never silently replaced.
import type { SchedulerSpec } from '../types.js';
import { canaryStrategy } from './canary.js';

/** The progress of a run as the strategy sees it. */
export interface RunProgress {
  canaryWeight: number;
  iterations: number;
}

/**
 * What a strategy wants after a passing analysis tick: move on (new weight and/or iteration count), or
 * 'complete' when its steps are done and promotion should be confirmed.
 */
export type StrategyMove =
  { kind: 'advance'; canaryWeight: number; iterations: number } | { kind: 'complete' };

export interface Strategy {
  readonly name: 'canary' | 'ab-testing' | 'blue-green' | 'blue-green-mirroring';
  /** Pure: the move after a passing tick. A move that raises canaryWeight is gated by confirm-traffic-increase. */
  next(progress: RunProgress): StrategyMove;
  /** Pure: the canary weight for the next Promoting tick; 0 means traffic is all back on the primary. */
  promotionWeight(canaryWeight: number): number;
}

export type StrategyChoice = { ok: true; strategy: Strategy } | { ok: false; message: string };

/**
 * Flagger's rule: match + iterations → A/B testing; iterations alone → blue/green (mirror → with mirroring);
 * otherwise canary. A/B and blue/green are a later issue: choosing them is reported as not implemented.
 */
export function selectStrategy(analysis: SchedulerSpec['analysis']): StrategyChoice {
  const iterations = analysis.iterations ?? 0;
  if (iterations > 0) {
    const name =
      analysis.match.length > 0
        ? 'A/B testing'
        : analysis.mirror
          ? 'blue/green with mirroring'
          : 'blue/green';
    return { ok: false, message: `the ${name} strategy (analysis.iterations) is not implemented yet` };
  }
  return canaryStrategy(analysis);
}
