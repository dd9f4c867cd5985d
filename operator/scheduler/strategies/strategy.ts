// The Strategy interface step() drives (SPEC §3.4), the route state a strategy asks the router for, and the
// choice of strategy from the analysis spec, made as Flagger makes it.
import type { VirtualServiceSpec } from '../../../crds/schema/networking.js';
import type { SchedulerSpec } from '../types.js';
import { abTestingStrategy } from './ab-testing.js';
import { blueGreenStrategy } from './blue-green.js';
import { canaryStrategy } from './canary.js';

/** One http match of a VirtualService (the A/B conditions of analysis.match are a subset). */
export type HttpMatch = NonNullable<NonNullable<VirtualServiceSpec['http']>[number]['match']>[number];

/**
 * What a Canary's routes carry (Flagger's VirtualService layouts, built by operator/routers/routes.ts). Plain
 * data; primary + canary = 100.
 */
export interface RouteState {
  /** Percentages of the requests that no condition below sends elsewhere (with `match`: of the matching ones). */
  primary: number;
  canary: number;
  /**
   * A/B testing: the weights above apply to requests matching any of these conditions (merged with
   * spec.service.match); every other request goes 100% to the primary.
   */
  match?: HttpMatch[];
  /** Blue/green with mirroring: this share of the requests is copied to the canary; its responses are dropped. */
  mirror?: { weightPercent: number };
  /**
   * Session affinity: while the canary weight is above 0, its responses set the cookie `name=value` and requests
   * carrying it go 100% to the canary; at weight 0 requests carrying it get the cookie expired (Max-Age=-1).
   */
  sessionAffinity?: { cookieName: string; cookieValue: string; maxAgeSeconds: number };
}

/** The progress of a run as the strategy sees it. */
export interface RunProgress {
  canaryWeight: number;
  iterations: number;
}

/**
 * What a strategy wants after a passing analysis tick: move on (new weight and/or iteration count, behind an
 * optional gate, with the event message), or 'complete' when its steps are done and promotion should be
 * confirmed.
 */
export type StrategyMove =
  | {
      kind: 'advance';
      canaryWeight: number;
      iterations: number;
      /** A webhook gate the move waits for: a failing one holds the run (confirm-promotion: WaitingPromotion). */
      gate?: 'confirm-traffic-increase' | 'confirm-promotion';
      message: string;
    }
  | { kind: 'complete' };

export interface Strategy {
  readonly name: 'canary' | 'ab-testing' | 'blue-green' | 'blue-green-mirroring';
  /** Pure: the move after a passing tick. */
  next(progress: RunProgress): StrategyMove;
  /** Pure: the canary weight for the next Promoting tick; 0 means traffic is all back on the primary. */
  promotionWeight(canaryWeight: number): number;
  /** Pure: the routes while a run of `revision` is on at this canary weight (advances and promotion steps). */
  routes(canaryWeight: number, revision: string): RouteState;
  /** Pure: the routes once a run of `revision` is over (promoted or rolled back): everything on the primary. */
  finalRoutes(revision: string): RouteState;
}

export type StrategyChoice = { ok: true; strategy: Strategy } | { ok: false; message: string };

/** Weights only, the canary weight given: the plain route every strategy ends on. */
export const weightsOnly = (canaryWeight: number): RouteState => ({
  primary: 100 - canaryWeight,
  canary: canaryWeight,
});

/** `Advance canary iteration 2/5`, the event of an iteration step. */
export const iterationMessage = (iterations: number, total: number): string =>
  `Advance canary iteration ${iterations}/${total}`;

/**
 * Flagger's rule: match + iterations → A/B testing; iterations alone → blue/green (mirror → with mirroring);
 * otherwise canary.
 */
export function selectStrategy(analysis: SchedulerSpec['analysis']): StrategyChoice {
  const iterations = analysis.iterations ?? 0;
  if (iterations > 0) {
    return analysis.match.length > 0 ? abTestingStrategy(analysis) : blueGreenStrategy(analysis);
  }
  return canaryStrategy(analysis);
}
