// The actions step() asks the shell to perform after the tick's one status write, and the gather requests it
// makes before deciding. Plain data: the executor (operator/actions.ts) owns every side effect.
import type { Verdict } from '../../analysis/types.js';
import type { RouteState } from './strategies/strategy.js';
import type { GatingWebhookType } from './types.js';

export type EventType = 'Normal' | 'Warning';
export type Severity = 'info' | 'warn' | 'error';

/**
 * One side effect, executed in array order after the status write. Every action is idempotent: a tick that
 * is retried (conflict on resourceVersion, operator restart) may run it again.
 */
export type Action =
  /** Ensure primary Deployment, Services, DestinationRules, routes (100/0 when created) and HPA exist.
   * Creates what is missing; never overwrites the primary's template after initialization. */
  | { type: 'bootstrap' }
  /**
   * Set the routes: the weights (primary + canary = 100) and, by strategy, the A/B match, the mirror or the
   * session cookie (RouteState). Named for the weights it began with; a bare {primary, canary} is a plain route.
   */
  | ({ type: 'setWeights' } & RouteState)
  /** Copy the target's pod template (and tracked configs) to the primary; record `revision` on the primary. */
  | { type: 'promote'; revision: string }
  /** Scale the target Deployment up from zero (and pause its HPA) for a run. */
  | { type: 'scaleTargetUp' }
  /** Scale the target Deployment to zero. */
  | { type: 'scaleTargetToZero' }
  /** A Kubernetes Event on the Canary (and, for `event` webhooks, their call). */
  | { type: 'event'; eventType: EventType; reason: string; message: string }
  /** A notification to the canary's alerts (filtered by severity), sent in the background. */
  | { type: 'notify'; severity: Severity; message: string }
  /** Fire-and-forget webhooks whose results never gate: post-rollout after Succeeded or Failed. */
  | { type: 'callWebhooks'; webhookType: 'post-rollout' }
  /** Record a metric verdict (fledge_canary_metric_analysis); dry-run verdicts are recorded too. */
  | { type: 'recordMetric'; verdict: Verdict }
  /**
   * Remove these annotations (name → the value step() saw) from the Canary: the manual requests this tick
   * consumed. An annotation whose value changed meanwhile is left for the next tick.
   */
  | { type: 'consumeAnnotations'; annotations: Record<string, string> };

/**
 * An input step() needs before it can decide. Asked one at a time and only when the tick reaches the point
 * that depends on it, so a failing gate short-circuits the webhooks after it (Flagger's order).
 */
export type GatherRequest =
  /** Run every webhook of this type in spec order; report each as a WebhookOutcome. */
  | { type: 'runWebhooks'; webhookType: GatingWebhookType }
  /** Evaluate every metric of spec.analysis.metrics; report the verdicts. */
  | { type: 'runMetrics' };
