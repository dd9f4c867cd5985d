// Inputs and outputs of the pure scheduler (SPEC §3.2–3.3): the slice of the Canary spec step() reads, the
// observations the shell gathers before a tick, and the result of one step.
import type {
  CanaryAnalysis,
  CanaryMetric,
  CanaryPhase,
  CanarySpec,
  CanaryStatus,
  CanaryWebhook,
} from '../../crds/schema/flagger.js';
import type { Verdict } from '../../analysis/types.js';
import type { WebhookResult, WebhookType } from '../../analysis/webhooks.js';
import type { Action, GatherRequest } from './actions.js';
import type { ManualRequests } from './manual.js';
import type { WindowState } from './windows.js';

export type { CanaryPhase, CanaryStatus };

/**
 * The fields of a defaulted Canary spec (crds/schema/flagger.ts `CanarySpec`, after withDefaults) that step()
 * reads. A full CanarySpec is assignable to it; tests may build just this slice.
 */
export type SchedulerSpec = Pick<CanarySpec, 'progressDeadlineSeconds' | 'skipAnalysis' | 'suspend'> & {
  analysis: Pick<
    CanaryAnalysis,
    | 'threshold'
    | 'maxWeight'
    | 'stepWeight'
    | 'stepWeights'
    | 'stepWeightPromotion'
    | 'iterations'
    | 'mirror'
    | 'mirrorWeight'
    | 'match'
    | 'sessionAffinity'
    | 'primaryReadyThreshold'
    | 'canaryReadyThreshold'
  > & {
    metrics: Pick<CanaryMetric, 'name'>[];
    webhooks: Pick<CanaryWebhook, 'name' | 'type'>[];
  };
};

/** Replica counts of a Deployment as its status reports them. */
export interface WorkloadObservation {
  /** spec.replicas (0 when scaled to zero). */
  desiredReplicas: number;
  /** status.updatedReplicas: pods already running the current template. */
  updatedReplicas: number;
  /** status.readyReplicas. */
  readyReplicas: number;
  /** status.replicas: pods of every revision; more than updatedReplicas while old pods still run. */
  replicas?: number;
}

/** The outcome of one webhook of a gating type, by the webhook's name. */
export interface WebhookOutcome {
  name: string;
  result: WebhookResult;
}

/** Webhook types whose results decide the tick (the others are fire-and-forget actions). */
export type GatingWebhookType = Extract<
  WebhookType,
  | 'confirm-rollout'
  | 'pre-rollout'
  | 'rollout'
  | 'confirm-traffic-increase'
  | 'confirm-promotion'
  | 'rollback'
>;

/** What the shell read from the cluster (and ran, on request) for this tick. */
export interface Observations {
  /** metadata.generation of the Canary; copied to status.observedGeneration. */
  generation: number;
  /**
   * The `<target>-primary` Deployment, null when it does not exist yet. `revision` is the target revision the
   * primary was last promoted to (recorded by the shell when it executes `promote`/`bootstrap`), so promotion
   * progress is `revision === status.lastAppliedSpec` and ready.
   */
  primary: (WorkloadObservation & { revision: string }) | null;
  /** The target Deployment (the canary while a run is in progress). */
  canary: WorkloadObservation | null;
  /** Weights the router serves now, read back; null before the routes exist. Trusted over status.canaryWeight. */
  routes: { primary: number; canary: number } | null;
  /** Hash of the target's pod template and tracked configs (compared with lastAppliedSpec/lastPromotedSpec). */
  targetRevision: string;
  /** Content hashes of the tracked ConfigMaps/Secrets, copied to status when a revision is applied. */
  trackedConfigs?: Record<string, string>;
  /**
   * Results of the gating webhooks the shell ran for this tick because step() asked for them (see
   * GatherRequest). A type that is absent has not been run yet; an empty list means none are configured.
   */
  webhooks?: Partial<Record<GatingWebhookType, WebhookOutcome[]>>;
  /** Verdicts of every metric of spec.analysis.metrics, present once step() asked for `runMetrics`. */
  verdicts?: Verdict[];
  /**
   * Manual requests (SPEC §3.6): the fledge.dev/* annotations present on the Canary, with their raw values.
   * step() consumes every one it sees (a `consumeAnnotations` action) and reports each as applied, ignored or
   * invalid. Absent or empty: none.
   */
  manual?: ManualRequests;
  /** Rollout windows (SPEC §2.1) at nowMs, computed by the shell with windowState(); absent: always open. */
  window?: WindowState;
}

export interface StepInput {
  spec: SchedulerSpec;
  /** The Canary's status as stored; `{}` for a new Canary. */
  status: CanaryStatus;
  observations: Observations;
  /** The clock, as Unix milliseconds: step() never reads the time itself. */
  nowMs: number;
}

/**
 * A step either decides (the full new status to write once, and the actions to run after the write) or asks
 * the shell to gather one more input first. In the second case nothing may be written: the shell runs the
 * request, adds its results to `observations` and calls step() again with the same status and nowMs.
 */
export type StepResult =
  { kind: 'decided'; status: CanaryStatus; actions: Action[] } | { kind: 'gather'; request: GatherRequest };
