// step(): the pure state machine of SPEC §3.2–3.3. One call per analysis tick (the shell calls it every
// analysis.interval): (spec, status, observations, now) → the full new status and the actions to run.
import type { CanaryPhase, CanaryStatus } from '../../crds/schema/flagger.js';
import type { WebhookResult } from '../../analysis/webhooks.js';
import type { Action, GatherRequest } from './actions.js';
import { withCondition, withPromotedCondition } from './conditions.js';
import type { ManualRequest } from './manual.js';
import { MANUAL_REQUESTS, MANUAL_VALUE, manualAnnotation } from './manual.js';
import { TOTAL_WEIGHT } from './strategies/canary.js';
import { selectStrategy, weightsOnly, type RouteState, type Strategy } from './strategies/strategy.js';
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
 * - Manual requests (observations.manual, SPEC §3.6) are consumed by the tick that sees them, applied or not,
 *   and act regardless of analysis windows; outside every window (observations.window) a run neither starts
 *   nor advances (see the end of this file).
 * - Strategies (strategies/*.ts) decide the moves and the shape of the routes (A/B match, mirror, session
 *   cookie); a run starts and restarts on the plain 100/0 route, and ends on the strategy's final routes.
 * - Not handled yet: revertOnDeletion (Terminating).
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
  /** Conditions other than Promoted this tick sets or removes, in order (applied by decide()). */
  conditions: Parameters<typeof withCondition>[1][];
  /** A gate a manual `resume` approved: it passes this tick without running its webhooks. */
  approved?: GatingWebhookType;
}

type Gate = { kind: 'pass' } | { kind: 'fail'; message: string } | { kind: 'gather'; request: GatherRequest };

const RUNNING: readonly CanaryPhase[] = ['Progressing', 'WaitingPromotion'];

export function step(input: StepInput): StepResult {
  const { spec, status } = input;
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
    conditions: [{ remove: WINDOW_CONDITION }],
  };
  const request = consumeManual(t);
  // Suspended: no status change; the only actions report and clear manual requests (ignored).
  if (spec.suspend) return { kind: 'decided', status: { ...status }, actions: t.actions.slice(1) };
  const phase = t.draft.phase;
  if (phase === '') return initialize(t);
  if (phase === 'Initializing') return initializing(t);
  // revertOnDeletion is not implemented yet: a terminating canary is left alone.
  if (phase === 'Terminating' || phase === 'Terminated') return decide({ ...t, actions: t.actions.slice(1) });
  if (request === 'abort') return abort(t);
  if (request === 'promote') return manualPromote(t);
  if (request === 'retry') return retry(t);
  if (request === 'resume') t.approved = phase === 'Waiting' ? 'confirm-rollout' : 'confirm-promotion';

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
    return holdOutsideWindow(t) ?? analyse(t, strategy);
  }
  // Initialized, Waiting, Succeeded, Failed.
  return (isNewRevision(t) ? holdOutsideWindow(t) : undefined) ?? startRun(t);
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
    if (move.gate === 'confirm-traffic-increase') {
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
    if (move.gate === 'confirm-promotion') {
      const held = promotionGate(t);
      if (held !== undefined) return held;
      // The blue/green switch: approved, the run goes on (out of WaitingPromotion) with all traffic on the canary.
      t.draft.phase = 'Progressing';
    }
    Object.assign(t.draft, { canaryWeight: move.canaryWeight, iterations: move.iterations });
    t.actions.push(routesAction(strategy.routes(move.canaryWeight, runRevision(t))));
    return decide(event(t, 'Normal', 'Advance', move.message));
  }

  const held = promotionGate(t);
  if (held !== undefined) return held;
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
  const revision = runRevision(t);
  t.actions.push(
    routesAction(canary > 0 ? strategy.routes(canary, revision) : strategy.finalRoutes(revision)),
  );
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
  const choice = selectStrategy(t.input.spec.analysis);
  t.actions.push(
    routesAction(choice.ok ? choice.strategy.finalRoutes(runRevision(t)) : weightsOnly(0)),
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

/**
 * The confirm-promotion gate: undefined when it passes; otherwise the tick's result (a gather request, or
 * WaitingPromotion with one event and alert when entering it).
 */
function promotionGate(t: Tick): StepResult | undefined {
  const promotion = webhookGate(t, 'confirm-promotion');
  if (promotion.kind === 'pass') return undefined;
  if (promotion.kind === 'gather') return promotion;
  if (t.input.status.phase !== 'WaitingPromotion') {
    t.draft.phase = 'WaitingPromotion';
    event(t, 'Warning', 'WaitingPromotion', `Halt promotion: waiting for approval (${promotion.message})`);
    notify(t, 'warn', 'Canary is waiting for promotion approval.');
  }
  return decide(t);
}

/** The revision of the current run (it names the session-affinity cookie). */
function runRevision(t: Tick): string {
  return t.draft.lastAppliedSpec ?? t.input.observations.targetRevision;
}

/** The setWeights action for routes a strategy chose. */
function routesAction(routes: RouteState): Action {
  return { type: 'setWeights', ...routes };
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
  if (t.approved === type) return { kind: 'pass' };
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
    conditions: withPromotedCondition(
      t.conditions.reduce((list, c) => withCondition(list, c, nowIso), status.conditions ?? []),
      t.draft.phase,
      conditionMessage(t),
      nowIso,
    ),
    observedGeneration: observations.generation,
    ...affinityCookies(status, t.actions),
  };
  return { kind: 'decided', status: next, actions: t.actions };
}

/**
 * status.sessionAffinityCookie and previousSessionAffinityCookie as Flagger keeps them, from the routes set this
 * tick: `name=value` of the run's cookie while the canary has weight; once the routes are back at weight 0
 * (promoted or rolled back) it becomes the previous cookie, the one the routes now expire. Unchanged when this
 * tick sets no routes.
 */
function affinityCookies(
  status: CanaryStatus,
  actions: readonly Action[],
): Pick<CanaryStatus, 'sessionAffinityCookie' | 'previousSessionAffinityCookie'> {
  const set = actions.filter((a) => a.type === 'setWeights').at(-1);
  if (set === undefined) return {};
  const affinity = set.sessionAffinity;
  const cookie = affinity && `${affinity.cookieName}=${affinity.cookieValue}`;
  if (set.canary > 0) return { sessionAffinityCookie: cookie };
  return {
    sessionAffinityCookie: undefined,
    previousSessionAffinityCookie:
      cookie ?? status.sessionAffinityCookie ?? status.previousSessionAffinityCookie,
  };
}

// ---- manual control (SPEC §3.6) and analysis windows (SPEC §2.1)

/** fledge's condition recording the last manual requests consumed: True when one was applied. */
export const MANUAL_CONDITION = 'ManualControl';
/** fledge's condition present while a run waits or holds outside every analysis window. */
export const WINDOW_CONDITION = 'AnalysisWindow';

/**
 * Consumes every manual request of the observations: each is cleared (one consumeAnnotations action), reported
 * (an event and the ManualControl condition) and at most one is returned to apply, the first applicable in
 * MANUAL_REQUESTS order. A value other than "true" is a Warning, never a request that stays.
 */
function consumeManual(t: Tick): ManualRequest | undefined {
  const manual = t.input.observations.manual ?? {};
  const seen: Record<string, string> = {};
  const lines: string[] = [];
  let chosen: ManualRequest | undefined;
  let invalid = false;
  for (const r of MANUAL_REQUESTS) {
    const value = manual[r];
    if (value === undefined) continue;
    const name = manualAnnotation(r);
    seen[name] = value;
    if (value !== MANUAL_VALUE) {
      invalid = true;
      const line = `${name}: invalid value ${JSON.stringify(value)} (expected "${MANUAL_VALUE}"); the annotation was removed`;
      event(t, 'Warning', 'InvalidManualRequest', line);
      lines.push(line);
      continue;
    }
    const why = chosen !== undefined ? `superseded by ${manualAnnotation(chosen)}` : notApplicable(t, r);
    if (why === undefined) {
      chosen = r;
      lines.push(`${name} applied in phase ${t.draft.phase}`);
      continue;
    }
    const line = `${name} ignored: ${why}`;
    event(t, 'Normal', 'ManualRequestIgnored', line);
    lines.push(line);
  }
  if (lines.length === 0) return undefined;
  t.actions.push({ type: 'consumeAnnotations', annotations: seen });
  const reason = invalid ? 'InvalidValue' : chosen !== undefined ? 'Applied' : 'Ignored';
  const status = !invalid && chosen !== undefined ? 'True' : 'False';
  t.conditions.push({ type: MANUAL_CONDITION, status, reason, message: `${lines.join('; ')}.` });
  return chosen;
}

/** Why a request does nothing in the current state, or undefined when it applies. */
function notApplicable(t: Tick, r: ManualRequest): string | undefined {
  const { spec, observations } = t.input;
  const phase = t.draft.phase;
  if (spec.suspend) return 'the canary is suspended';
  const newRevision = observations.targetRevision !== t.draft.lastAppliedSpec;
  const running = RUNNING.includes(phase);
  const where = `the phase is ${phase === '' ? 'not set yet' : phase}`;
  switch (r) {
    case 'abort':
      return running || phase === 'Waiting' ? undefined : `no run to abort (${where})`;
    case 'promote':
      if (!running) return `promote applies while Progressing or WaitingPromotion (${where})`;
      return newRevision ? `revision ${observations.targetRevision} restarts the analysis` : undefined;
    case 'resume':
      if (phase !== 'Waiting' && phase !== 'WaitingPromotion')
        return `resume applies while Waiting or WaitingPromotion (${where})`;
      return phase === 'WaitingPromotion' && newRevision
        ? `revision ${observations.targetRevision} restarts the analysis`
        : undefined;
    case 'retry':
      if (phase !== 'Failed') return `retry applies to a Failed canary (${where})`;
      return newRevision ? `revision ${observations.targetRevision} starts a run by itself` : undefined;
  }
}

/** fledge.dev/abort: roll back now; the target revision is recorded so the aborted revision stays Failed. */
function abort(t: Tick): StepResult {
  applyRevision(t, t.input.observations.targetRevision);
  return rollback(t, `aborted by ${manualAnnotation('abort')}`);
}

/** fledge.dev/promote: skip the remaining analysis (and its gates); Promoting from the next tick on. */
function manualPromote(t: Tick): StepResult {
  t.draft.phase = 'Promoting';
  t.actions.push({
    type: 'promote',
    revision: t.draft.lastAppliedSpec ?? t.input.observations.targetRevision,
  });
  const message = `Promotion requested by ${manualAnnotation('promote')}: skipping the remaining analysis`;
  return decide(notify(event(t, 'Normal', 'Promoting', message), 'info', `${message}.`));
}

/** fledge.dev/retry: the Failed revision runs again from weight 0, counters reset, no confirm-rollout. */
function retry(t: Tick): StepResult {
  const target = t.input.observations.targetRevision;
  resetRun(t, 'Progressing');
  applyRevision(t, target);
  t.actions.push({ type: 'scaleTargetUp' }, { type: 'setWeights', primary: TOTAL_WEIGHT, canary: 0 });
  const message = `Retrying revision ${target} (${manualAnnotation('retry')}): restarting the analysis`;
  return decide(notify(event(t, 'Normal', 'Retry', message), 'info', `${message}.`));
}

/** A revision neither applied nor promoted: startRun() would begin a run for it. */
function isNewRevision(t: Tick): boolean {
  const target = t.input.observations.targetRevision;
  return target !== t.draft.lastAppliedSpec && target !== t.draft.lastPromotedSpec;
}

/**
 * Outside every analysis window: a new run waits and a running one holds its weight (no check, no advance,
 * no deadline), with the AnalysisWindow condition (reason OutsideWindow) and an event when the hold begins.
 * undefined when a window is open or a manual resume approved this tick.
 */
function holdOutsideWindow(t: Tick): StepResult | undefined {
  const w = t.input.observations.window;
  if (w === undefined || w.open || t.approved !== undefined) return undefined;
  const next =
    w.nextStartMs === undefined
      ? 'no window opens again'
      : `the next window opens at ${new Date(w.nextStartMs).toISOString()}`;
  const what = RUNNING.includes(t.draft.phase)
    ? `holding the canary weight at ${t.draft.canaryWeight}%`
    : `revision ${t.input.observations.targetRevision} waits`;
  const message = `Outside every analysis window: ${what}; ${next}.`;
  const previous = t.input.status.conditions?.find((c) => c.type === WINDOW_CONDITION);
  if (previous?.reason !== 'OutsideWindow') event(t, 'Normal', 'OutsideWindow', message);
  t.conditions.push({ type: WINDOW_CONDITION, status: 'False', reason: 'OutsideWindow', message });
  t.conditionMessage = message;
  return decide(t);
}
