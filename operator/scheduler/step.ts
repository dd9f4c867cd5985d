// step(): the pure state machine of SPEC §3.2–3.3. One call per analysis tick (the shell calls it every
// analysis.interval): (spec, status, observations, now) → the full new status and the actions to run.
import type { CanaryPhase, CanaryStatus } from '../../crds/schema/flagger.js';
import type { WebhookResult } from '../../analysis/webhooks.js';
import type { Action, GatherRequest } from './actions.js';
import { withPromotedCondition } from './conditions.js';
import { TOTAL_WEIGHT } from './strategies/canary.js';
import { selectStrategy, type Strategy } from './strategies/strategy.js';
import type {
  GatingWebhookType,
  StepInput,
  StepResult,
  WebhookOutcome,
  WorkloadObservation,
} from './types.js';

/*
 * Contract with the shell (operator/reconcile.ts):
 * - Gathering: gating webhooks and metrics have side effects (load tests, approvals), so step() asks for them
 *   one at a time, only when the tick reaches the point that needs them, by returning {kind: 'gather'}. The
 *   shell runs the request, adds the results to observations and calls step() again with the same status
 *   and nowMs (settleStep() in settle.ts does this loop). Results are used in the same tick, never a tick late,
 *   and a failing gate short-circuits what comes after it, as in Flagger.
 * - Deciding: {kind: 'decided'} carries the whole new status (written once, guarded by resourceVersion) and
 *   the actions to run after the write, in order.
 * - The current canary weight is the one the router serves (observations.routes), so a setWeights action that
 *   failed after its status write is corrected by the next tick.
 * - lastTransitionTime changes only when the phase changes, so the progress deadline counts from the start of
 *   the current phase.
 * - Not handled yet: the manual annotations of SPEC §3.6 (promote/abort/resume/retry), analysis windows,
 *   revertOnDeletion (Terminating), and the A/B and blue/green strategies (see strategies/strategy.ts).
 */

/** The mutable part of the status while a tick is decided. */
interface Draft {
  phase: CanaryPhase;
  canaryWeight: number;
  failedChecks: number;
  iterations: number;
  lastAppliedSpec: string | undefined;
  lastPromotedSpec: string | undefined;
  trackedConfigs: Record<string, string> | undefined;
}

interface Tick {
  input: StepInput;
  draft: Draft;
  actions: Action[];
  /** Overrides the condition message this tick (e.g. why a run failed). */
  conditionMessage?: string;
}

type Gate = { kind: 'pass' } | { kind: 'fail'; message: string } | { kind: 'gather'; request: GatherRequest };

const RUNNING: readonly CanaryPhase[] = ['Progressing', 'WaitingPromotion'];

export function step(input: StepInput): StepResult {
  const { spec, status } = input;
  // Suspended: no action, no status change.
  if (spec.suspend) return { kind: 'decided', status: { ...status }, actions: [] };

  const t: Tick = {
    input,
    draft: {
      phase: status.phase ?? '',
      canaryWeight: currentWeight(input),
      failedChecks: status.failedChecks ?? 0,
      iterations: status.iterations ?? 0,
      lastAppliedSpec: status.lastAppliedSpec,
      lastPromotedSpec: status.lastPromotedSpec,
      trackedConfigs: status.trackedConfigs,
    },
    actions: [{ type: 'bootstrap' }],
  };
  const phase = t.draft.phase;
  if (phase === '') return initialize(t);
  if (phase === 'Initializing') return initializing(t);
  // revertOnDeletion is not implemented yet: a terminating canary is left alone.
  if (phase === 'Terminating' || phase === 'Terminated') return decide({ ...t, actions: [] });

  const choice = selectStrategy(spec.analysis);
  if (!choice.ok) return decide(event(t, 'Warning', 'InvalidSpec', choice.message));
  const strategy = choice.strategy;

  if (phase === 'Promoting') return promoting(t, strategy);
  if (phase === 'Finalising') return finalising(t);

  const primary = input.observations.primary;
  if (!spec.skipAnalysis && !isReady(primary, spec.analysis.primaryReadyThreshold)) {
    return decide(
      event(t, 'Warning', 'PrimaryNotReady', `Waiting for the primary: ${describeReady(primary)}`),
    );
  }
  if (RUNNING.includes(phase)) {
    if (input.observations.targetRevision !== t.draft.lastAppliedSpec) return restart(t);
    return analyse(t, strategy);
  }
  // Initialized, Waiting, Succeeded, Failed.
  return startRun(t);
}

// ---- phases

function initialize(t: Tick): StepResult {
  t.draft.phase = 'Initializing';
  return decide(event(t, 'Normal', 'Initializing', 'Creating the primary, services and routes'));
}

function initializing(t: Tick): StepResult {
  const { observations, spec } = t.input;
  if (!isReady(observations.primary, spec.analysis.primaryReadyThreshold)) return decide(t);
  applyRevision(t, observations.targetRevision);
  Object.assign(t.draft, {
    phase: 'Initialized',
    lastPromotedSpec: observations.targetRevision,
    canaryWeight: 0,
  });
  t.actions.push({ type: 'scaleTargetToZero' });
  event(
    t,
    'Normal',
    'Initialized',
    'Initialization done: the primary is ready, the target is scaled to zero',
  );
  return decide(notify(t, 'info', 'Initialization done.'));
}

/** From Initialized/Succeeded/Failed (a new revision) or Waiting: confirm-rollout, then Progressing. */
function startRun(t: Tick): StepResult {
  const { observations, spec, status } = t.input;
  const target = observations.targetRevision;
  const isNew = target !== t.draft.lastAppliedSpec && target !== t.draft.lastPromotedSpec;
  if (!isNew) {
    if (t.draft.phase !== 'Waiting') return decide(t);
    // The target went back to a known revision while waiting for approval: nothing to roll out.
    t.draft.phase = target === t.draft.lastPromotedSpec ? 'Succeeded' : 'Failed';
    return decide(
      event(t, 'Normal', 'Reverted', `The target is back at revision ${target}; nothing to roll out`),
    );
  }
  if (spec.skipAnalysis) return promoteNow(t);

  const gate = webhookGate(t, 'confirm-rollout');
  if (gate.kind === 'gather') return gate;
  if (gate.kind === 'fail') {
    if (status.phase !== 'Waiting') {
      t.draft.phase = 'Waiting';
      event(t, 'Warning', 'Waiting', `Halt advancement: waiting for rollout approval (${gate.message})`);
      notify(t, 'warn', 'Canary is waiting for rollout approval.');
    }
    return decide(t);
  }
  resetRun(t, 'Progressing');
  applyRevision(t, target);
  t.actions.push({ type: 'scaleTargetUp' }, { type: 'setWeights', primary: TOTAL_WEIGHT, canary: 0 });
  event(
    t,
    'Normal',
    'NewRevision',
    `New revision ${target} detected: scaling up the target, starting the analysis`,
  );
  return decide(notify(t, 'info', `New revision ${target} detected, progressing canary analysis.`));
}

/** A new revision during a run: traffic back to the primary, counters reset, analysis starts again. */
function restart(t: Tick): StepResult {
  const target = t.input.observations.targetRevision;
  resetRun(t, 'Progressing');
  applyRevision(t, target);
  t.actions.push({ type: 'scaleTargetUp' }, { type: 'setWeights', primary: TOTAL_WEIGHT, canary: 0 });
  return decide(
    event(t, 'Normal', 'NewRevision', `New revision ${target} detected: restarting the analysis`),
  );
}

/** One analysis tick of Progressing or WaitingPromotion, in SPEC §3.3's order. */
function analyse(t: Tick, strategy: Strategy): StepResult {
  const { spec, observations, status, nowMs } = t.input;
  const analysis = spec.analysis;
  if (spec.skipAnalysis) return promoteNow(t);

  if (!isReady(observations.canary, analysis.canaryReadyThreshold)) {
    const since = Date.parse(status.lastTransitionTime ?? '');
    if (!Number.isNaN(since) && nowMs - since > spec.progressDeadlineSeconds * 1000) {
      return rollback(t, `progress deadline of ${spec.progressDeadlineSeconds}s exceeded, canary not ready`);
    }
    return decide(
      event(t, 'Warning', 'CanaryNotReady', `Waiting for the canary: ${describeReady(observations.canary)}`),
    );
  }

  const rollbackHooks = outcomes(t, 'rollback');
  if (rollbackHooks.kind === 'gather') return rollbackHooks;
  const invoked = rollbackHooks.outcomes.find((o) => o.result.outcome === 'passed');
  if (invoked !== undefined) return rollback(t, `rollback webhook ${invoked.name} invoked`);

  if (t.draft.failedChecks >= analysis.threshold) {
    return rollback(
      t,
      `${t.draft.failedChecks} failed checks reached the threshold of ${analysis.threshold}`,
    );
  }

  if (t.draft.canaryWeight === 0 && t.draft.iterations === 0) {
    const pre = webhookGate(t, 'pre-rollout');
    if (pre.kind === 'gather') return pre;
    if (pre.kind === 'fail') return failCheck(t, `pre-rollout webhook failed: ${pre.message}`);
  } else {
    const rollout = webhookGate(t, 'rollout');
    if (rollout.kind === 'gather') return rollout;
    if (rollout.kind === 'fail') return failCheck(t, `rollout webhook failed: ${rollout.message}`);
    if (analysis.metrics.length > 0) {
      const verdicts = observations.verdicts;
      if (verdicts === undefined) return { kind: 'gather', request: { type: 'runMetrics' } };
      for (const verdict of verdicts) t.actions.push({ type: 'recordMetric', verdict });
      for (const v of verdicts.filter((v) => v.outcome === 'dry-run')) {
        event(t, 'Normal', 'DryRun', `Dry-run metric ${v.metric}: ${v.reason}`);
      }
      const failed = verdicts.filter((v) => v.outcome === 'fail');
      // One failed check per tick, however many metrics failed.
      if (failed.length > 0) return failCheck(t, failed.map((v) => `${v.metric}: ${v.reason}`).join('; '));
      const held = verdicts.filter((v) => v.outcome === 'hold');
      if (held.length > 0) {
        const reasons = held.map((v) => `${v.metric}: ${v.reason}`).join('; ');
        return decide(event(t, 'Normal', 'Hold', `Holding the weight: ${reasons}`));
      }
    }
  }

  const move = strategy.next({ canaryWeight: t.draft.canaryWeight, iterations: t.draft.iterations });
  if (move.kind === 'advance') {
    if (move.canaryWeight > t.draft.canaryWeight) {
      const confirm = webhookGate(t, 'confirm-traffic-increase');
      if (confirm.kind === 'gather') return confirm;
      if (confirm.kind === 'fail') {
        return decide(
          event(
            t,
            'Normal',
            'WaitingTrafficIncrease',
            `Waiting for traffic increase approval (${confirm.message})`,
          ),
        );
      }
    }
    Object.assign(t.draft, { canaryWeight: move.canaryWeight, iterations: move.iterations });
    t.actions.push({
      type: 'setWeights',
      primary: TOTAL_WEIGHT - move.canaryWeight,
      canary: move.canaryWeight,
    });
    return decide(event(t, 'Normal', 'Advance', `Advance canary weight to ${move.canaryWeight}%`));
  }

  const promotion = webhookGate(t, 'confirm-promotion');
  if (promotion.kind === 'gather') return promotion;
  if (promotion.kind === 'fail') {
    if (status.phase !== 'WaitingPromotion') {
      t.draft.phase = 'WaitingPromotion';
      event(t, 'Warning', 'WaitingPromotion', `Halt promotion: waiting for approval (${promotion.message})`);
      notify(t, 'warn', 'Canary is waiting for promotion approval.');
    }
    return decide(t);
  }
  t.draft.phase = 'Promoting';
  t.actions.push({ type: 'promote', revision: t.draft.lastAppliedSpec ?? observations.targetRevision });
  return decide(
    event(t, 'Normal', 'Promoting', 'Analysis passed: copying the target template to the primary'),
  );
}

/** Wait for the primary to run the promoted revision, then move traffic back to it (stepWeightPromotion). */
function promoting(t: Tick, strategy: Strategy): StepResult {
  const { observations, spec } = t.input;
  const primary = observations.primary;
  const updated = primary !== null && primary.revision === t.draft.lastAppliedSpec;
  if (!updated || !isReady(primary, spec.analysis.primaryReadyThreshold)) {
    const state = updated ? describeReady(primary) : 'not updated to the new revision yet';
    return decide(event(t, 'Normal', 'Promoting', `Waiting for the primary rollout: ${state}`));
  }
  const canary = strategy.promotionWeight(t.draft.canaryWeight);
  t.draft.canaryWeight = canary;
  t.actions.push({ type: 'setWeights', primary: TOTAL_WEIGHT - canary, canary });
  if (canary > 0)
    return decide(event(t, 'Normal', 'Promoting', `Advance primary weight to ${TOTAL_WEIGHT - canary}%`));
  t.draft.phase = 'Finalising';
  return decide(event(t, 'Normal', 'Finalising', 'Routing all traffic to the primary'));
}

function finalising(t: Tick): StepResult {
  t.draft.phase = 'Succeeded';
  t.draft.lastPromotedSpec = t.draft.lastAppliedSpec;
  t.actions.push({ type: 'scaleTargetToZero' }, { type: 'callWebhooks', webhookType: 'post-rollout' });
  event(t, 'Normal', 'Succeeded', 'Promotion completed: the target is scaled to zero');
  return decide(notify(t, 'info', 'Canary analysis completed successfully, promotion finished.'));
}

/** skipAnalysis: promote the target revision at once and finish. */
function promoteNow(t: Tick): StepResult {
  const target = t.input.observations.targetRevision;
  resetRun(t, 'Succeeded');
  applyRevision(t, target);
  t.draft.lastPromotedSpec = target;
  t.actions.push(
    { type: 'setWeights', primary: TOTAL_WEIGHT, canary: 0 },
    { type: 'promote', revision: target },
    { type: 'scaleTargetToZero' },
    { type: 'callWebhooks', webhookType: 'post-rollout' },
  );
  event(t, 'Normal', 'Succeeded', `Promotion of ${target} completed: the analysis was skipped`);
  return decide(notify(t, 'info', 'Canary analysis skipped, promotion finished.'));
}

/** All traffic back to the primary, target scaled to zero, primary untouched. failedChecks are kept. */
function rollback(t: Tick, reason: string): StepResult {
  Object.assign(t.draft, { phase: 'Failed', canaryWeight: 0 });
  t.conditionMessage = `Canary analysis failed: ${reason}.`;
  t.actions.push(
    { type: 'setWeights', primary: TOTAL_WEIGHT, canary: 0 },
    { type: 'scaleTargetToZero' },
    { type: 'callWebhooks', webhookType: 'post-rollout' },
  );
  event(t, 'Warning', 'RollingBack', `Rolling back: ${reason}`);
  return decide(notify(t, 'error', `Canary analysis failed, rolling back: ${reason}.`));
}

/** A failing check: one more failed check, the weight holds. */
function failCheck(t: Tick, reason: string): StepResult {
  t.draft.failedChecks += 1;
  event(t, 'Warning', 'Halted', `Halt advancement: ${reason}`);
  return decide(notify(t, 'warn', `Halt advancement: ${reason}`));
}

// ---- helpers

function resetRun(t: Tick, phase: CanaryPhase): void {
  Object.assign(t.draft, { phase, canaryWeight: 0, failedChecks: 0, iterations: 0 });
}

function applyRevision(t: Tick, revision: string): void {
  t.draft.lastAppliedSpec = revision;
  t.draft.trackedConfigs = t.input.observations.trackedConfigs ?? t.draft.trackedConfigs;
}

function currentWeight({ observations, status }: StepInput): number {
  return observations.routes?.canary ?? status.canaryWeight ?? 0;
}

/**
 * Ready: scaled up, every replica updated to the current template, no pod of an older template left (so a
 * promoted primary serves only the new version), and at least thresholdPercent of them ready (rounded up: 50%
 * of 3 replicas needs 2).
 */
export function isReady(w: WorkloadObservation | null, thresholdPercent: number): boolean {
  if (w === null || w.desiredReplicas <= 0 || w.updatedReplicas < w.desiredReplicas) return false;
  if (w.replicas !== undefined && w.replicas > w.updatedReplicas) return false;
  return w.readyReplicas >= Math.ceil((w.desiredReplicas * thresholdPercent) / 100);
}

function describeReady(w: WorkloadObservation | null): string {
  if (w === null) return 'the Deployment does not exist';
  return `${w.readyReplicas}/${w.desiredReplicas} ready, ${w.updatedReplicas} updated`;
}

function outcomes(
  t: Tick,
  type: GatingWebhookType,
): { kind: 'outcomes'; outcomes: WebhookOutcome[] } | { kind: 'gather'; request: GatherRequest } {
  if (!t.input.spec.analysis.webhooks.some((w) => w.type === type)) return { kind: 'outcomes', outcomes: [] };
  const results = t.input.observations.webhooks?.[type];
  if (results === undefined) return { kind: 'gather', request: { type: 'runWebhooks', webhookType: type } };
  return { kind: 'outcomes', outcomes: results };
}

/** A gate passes when every webhook of the type passed (or none is configured). */
function webhookGate(t: Tick, type: GatingWebhookType): Gate {
  const got = outcomes(t, type);
  if (got.kind === 'gather') return got;
  const failed = got.outcomes.filter((o) => o.result.outcome !== 'passed');
  if (failed.length === 0) return { kind: 'pass' };
  return { kind: 'fail', message: failed.map((o) => `${o.name}: ${describeResult(o.result)}`).join('; ') };
}

function describeResult(r: WebhookResult): string {
  switch (r.outcome) {
    case 'passed':
      return `HTTP ${r.status}`;
    case 'failed':
      return `HTTP ${r.status}`;
    case 'timed-out':
      return `timed out after ${r.timeoutMs}ms`;
    case 'unreachable':
      return r.message;
  }
}

function event(t: Tick, eventType: 'Normal' | 'Warning', reason: string, message: string): Tick {
  t.actions.push({ type: 'event', eventType, reason, message });
  return t;
}

function notify(t: Tick, severity: 'info' | 'warn' | 'error', message: string): Tick {
  t.actions.push({ type: 'notify', severity, message });
  return t;
}

function conditionMessage(t: Tick): string {
  const { draft, input } = t;
  if (t.conditionMessage !== undefined) return t.conditionMessage;
  const previous = input.status.conditions?.find((c) => c.type === 'Promoted')?.message;
  switch (draft.phase) {
    case '':
    case 'Initializing':
      return 'Initializing: waiting for the primary to be ready.';
    case 'Initialized':
      return 'Deployment initialization completed.';
    case 'Waiting':
      return 'Waiting for confirm-rollout approval.';
    case 'Progressing':
      return `Canary analysis in progress: canary weight ${draft.canaryWeight}%, ${draft.failedChecks}/${input.spec.analysis.threshold} failed checks.`;
    case 'WaitingPromotion':
      return 'Waiting for confirm-promotion approval.';
    case 'Promoting':
      return 'Promoting: the primary is updated to the new revision, traffic moves back to it.';
    case 'Finalising':
      return 'Finalising: all traffic is on the primary, scaling the target to zero.';
    case 'Succeeded':
      return 'Canary analysis completed successfully, promotion finished.';
    case 'Failed':
      // A Failed canary keeps the message that says why it failed.
      return input.status.phase === 'Failed' && previous !== undefined
        ? previous
        : 'Canary analysis failed, the target is scaled to zero.';
    case 'Terminating':
    case 'Terminated':
      return `Canary ${draft.phase.toLowerCase()}.`;
  }
}

/** The full new status: lastTransitionTime moves only with the phase; observedGeneration is the spec's. */
function decide(t: Tick): StepResult {
  const { status, nowMs, observations } = t.input;
  const nowIso = new Date(nowMs).toISOString();
  const phaseChanged = t.draft.phase !== (status.phase ?? '');
  const next: CanaryStatus = {
    ...status,
    phase: t.draft.phase,
    canaryWeight: t.draft.canaryWeight,
    failedChecks: t.draft.failedChecks,
    iterations: t.draft.iterations,
    lastAppliedSpec: t.draft.lastAppliedSpec,
    lastPromotedSpec: t.draft.lastPromotedSpec,
    trackedConfigs: t.draft.trackedConfigs,
    lastTransitionTime:
      phaseChanged || status.lastTransitionTime === undefined ? nowIso : status.lastTransitionTime,
    conditions: withPromotedCondition(status.conditions, t.draft.phase, conditionMessage(t), nowIso),
    observedGeneration: observations.generation,
  };
  return { kind: 'decided', status: next, actions: t.actions };
}
