// Table tests of the pure scheduler step() (SPEC §3.2–3.3, canary strategy) and a tick-by-tick simulation of
// a good and a bad run through settleStep() with scripted observations.
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../analysis/types.js';
import type { WebhookResult } from '../../analysis/webhooks.js';
import type { Action } from '../../operator/scheduler/actions.js';
import { settleStep } from '../../operator/scheduler/settle.js';
import { isReady, step } from '../../operator/scheduler/step.js';
import { canaryMaxWeight, nextCanaryWeight } from '../../operator/scheduler/strategies/canary.js';
import type {
  CanaryStatus,
  GatingWebhookType,
  Observations,
  SchedulerSpec,
  StepInput,
  StepResult,
  WebhookOutcome,
  WorkloadObservation,
} from '../../operator/scheduler/types.js';

const OLD = 'rev-old';
const NEW = 'rev-new';
const NEWER = 'rev-newer';
const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const T0_ISO = new Date(T0).toISOString();
const NOW = T0 + 30_000;

type Analysis = SchedulerSpec['analysis'];
type Hook = Analysis['webhooks'][number];

function makeSpec(
  analysis: Partial<Analysis> = {},
  top: Partial<Omit<SchedulerSpec, 'analysis'>> = {},
): SchedulerSpec {
  return {
    progressDeadlineSeconds: 600,
    skipAnalysis: false,
    suspend: false,
    ...top,
    analysis: {
      threshold: 2,
      maxWeight: 50,
      stepWeight: 10,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      mirror: false,
      match: [],
      metrics: [],
      webhooks: [],
      ...analysis,
    },
  };
}

const ready = (n = 2): WorkloadObservation => ({ desiredReplicas: n, updatedReplicas: n, readyReplicas: n });
const scaledDown: WorkloadObservation = { desiredReplicas: 0, updatedReplicas: 0, readyReplicas: 0 };

function makeObs(o: Partial<Observations> = {}): Observations {
  return {
    generation: 3,
    primary: { ...ready(), revision: OLD },
    canary: ready(),
    routes: { primary: 100, canary: 0 },
    targetRevision: OLD,
    ...o,
  };
}

function makeStatus(s: Partial<CanaryStatus> = {}): CanaryStatus {
  return {
    phase: 'Initialized',
    canaryWeight: 0,
    failedChecks: 0,
    iterations: 0,
    lastAppliedSpec: OLD,
    lastPromotedSpec: OLD,
    lastTransitionTime: T0_ISO,
    ...s,
  };
}

/** Status and observations of a run of NEW at `weight` (routes read back agree). */
function running(weight: number, s: Partial<CanaryStatus> = {}, o: Partial<Observations> = {}) {
  return {
    status: makeStatus({ phase: 'Progressing', canaryWeight: weight, lastAppliedSpec: NEW, ...s }),
    obs: makeObs({ targetRevision: NEW, routes: { primary: 100 - weight, canary: weight }, ...o }),
  };
}

const hook = (type: Hook['type'], name = type): Hook => ({ name, type });
const passed: WebhookResult = { outcome: 'passed', status: 200, attempts: 1 };
const failed: WebhookResult = { outcome: 'failed', status: 403, bodyExcerpt: 'closed', attempts: 1 };
const results = (type: GatingWebhookType, result: WebhookResult): Observations['webhooks'] => ({
  [type]: [{ name: type, result }],
});
const verdict = (outcome: Verdict['outcome'], metric = 'request-success-rate'): Verdict => ({
  metric,
  value: 99,
  threshold: { min: 99 },
  outcome,
  reason: `${metric} ${outcome}`,
});

function decided(r: StepResult): { status: CanaryStatus; actions: Action[] } {
  if (r.kind !== 'decided') throw new Error(`expected a decision, got a gather request ${JSON.stringify(r)}`);
  return r;
}

const run = (spec: SchedulerSpec, status: CanaryStatus, obs: Observations, nowMs = NOW) =>
  step({ spec, status, observations: obs, nowMs });

const types = (actions: Action[]) => actions.map((a) => a.type);
const weights = (actions: Action[]) =>
  actions.flatMap((a) => (a.type === 'setWeights' ? [[a.primary, a.canary]] : []));
const promoted = (s: CanaryStatus) => s.conditions?.find((c) => c.type === 'Promoted');

interface Row {
  name: string;
  spec?: SchedulerSpec;
  status: CanaryStatus;
  obs: Observations;
  nowMs?: number;
  phase: CanaryStatus['phase'];
  weight?: number;
  failedChecks?: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  /** Action types that must be present, in this order among themselves. */
  actions?: Action['type'][];
  /** Action types that must be absent. */
  without?: Action['type'][];
  setWeights?: number[][];
}

describe('step(): phase transitions of SPEC §3.2 (canary)', () => {
  const rows: Row[] = [
    {
      name: 'new Canary → Initializing, bootstrap',
      status: {},
      obs: makeObs({ primary: null, routes: null }),
      phase: 'Initializing',
      actions: ['bootstrap', 'event'],
      without: ['scaleTargetToZero'],
    },
    {
      name: 'Initializing, primary not ready → stays',
      status: makeStatus({ phase: 'Initializing', lastAppliedSpec: undefined, lastPromotedSpec: undefined }),
      obs: makeObs({ primary: { ...ready(), readyReplicas: 1, revision: OLD } }),
      phase: 'Initializing',
      without: ['scaleTargetToZero', 'notify'],
    },
    {
      name: 'Initializing, primary ready → Initialized, target scaled to zero',
      status: makeStatus({ phase: 'Initializing', lastAppliedSpec: undefined, lastPromotedSpec: undefined }),
      obs: makeObs(),
      phase: 'Initialized',
      lastAppliedSpec: OLD,
      lastPromotedSpec: OLD,
      actions: ['bootstrap', 'scaleTargetToZero', 'notify'],
    },
    {
      name: 'Initialized, same revision → nothing to do',
      status: makeStatus(),
      obs: makeObs(),
      phase: 'Initialized',
      without: ['scaleTargetUp', 'setWeights', 'event', 'notify'],
    },
    {
      name: 'Initialized, new revision → Progressing, target scaled up',
      status: makeStatus(),
      obs: makeObs({ targetRevision: NEW, canary: scaledDown }),
      phase: 'Progressing',
      weight: 0,
      lastAppliedSpec: NEW,
      lastPromotedSpec: OLD,
      actions: ['scaleTargetUp', 'setWeights', 'notify'],
      setWeights: [[100, 0]],
    },
    {
      name: 'Initialized, new revision, confirm-rollout fails → Waiting',
      spec: makeSpec({ webhooks: [hook('confirm-rollout')] }),
      status: makeStatus(),
      obs: makeObs({ targetRevision: NEW, webhooks: results('confirm-rollout', failed) }),
      phase: 'Waiting',
      lastAppliedSpec: OLD,
      actions: ['event', 'notify'],
      without: ['scaleTargetUp', 'setWeights'],
    },
    {
      name: 'Waiting, confirm-rollout still fails → stays Waiting, no repeated alert',
      spec: makeSpec({ webhooks: [hook('confirm-rollout')] }),
      status: makeStatus({ phase: 'Waiting' }),
      obs: makeObs({ targetRevision: NEW, webhooks: results('confirm-rollout', failed) }),
      phase: 'Waiting',
      without: ['notify', 'scaleTargetUp'],
    },
    {
      name: 'Waiting, confirm-rollout passes → Progressing',
      spec: makeSpec({ webhooks: [hook('confirm-rollout')] }),
      status: makeStatus({ phase: 'Waiting' }),
      obs: makeObs({ targetRevision: NEW, webhooks: results('confirm-rollout', passed) }),
      phase: 'Progressing',
      lastAppliedSpec: NEW,
      actions: ['scaleTargetUp'],
    },
    {
      name: 'Waiting, target reverted to the promoted revision → Succeeded',
      status: makeStatus({ phase: 'Waiting' }),
      obs: makeObs({ targetRevision: OLD }),
      phase: 'Succeeded',
      without: ['scaleTargetUp'],
    },
    {
      name: 'Succeeded, new revision → Progressing',
      status: makeStatus({ phase: 'Succeeded' }),
      obs: makeObs({ targetRevision: NEW }),
      phase: 'Progressing',
      lastAppliedSpec: NEW,
    },
    {
      name: 'Failed, same failed revision → stays Failed',
      status: makeStatus({ phase: 'Failed', lastAppliedSpec: NEW }),
      obs: makeObs({ targetRevision: NEW }),
      phase: 'Failed',
      without: ['scaleTargetUp', 'setWeights'],
    },
    {
      name: 'Failed, a newer revision → Progressing',
      status: makeStatus({ phase: 'Failed', lastAppliedSpec: NEW, failedChecks: 2 }),
      obs: makeObs({ targetRevision: NEWER }),
      phase: 'Progressing',
      failedChecks: 0,
      lastAppliedSpec: NEWER,
    },
    {
      name: 'Progressing at 0, pre-rollout passes → first step',
      spec: makeSpec({ webhooks: [hook('pre-rollout')] }),
      ...running(0, {}, { webhooks: results('pre-rollout', passed) }),
      phase: 'Progressing',
      weight: 10,
      setWeights: [[90, 10]],
    },
    {
      name: 'Progressing at 0, pre-rollout fails → one failed check, weight holds',
      spec: makeSpec({ webhooks: [hook('pre-rollout')] }),
      ...running(0, {}, { webhooks: results('pre-rollout', failed) }),
      phase: 'Progressing',
      weight: 0,
      failedChecks: 1,
      without: ['setWeights'],
    },
    {
      name: 'Progressing at 20, rollout webhook fails → one failed check',
      spec: makeSpec({ webhooks: [hook('rollout')] }),
      ...running(20, {}, { webhooks: results('rollout', failed) }),
      phase: 'Progressing',
      weight: 20,
      failedChecks: 1,
      without: ['setWeights'],
    },
    {
      name: 'Progressing at maxWeight → Promoting, target spec copied to primary',
      ...running(50),
      phase: 'Promoting',
      weight: 50,
      actions: ['promote'],
      without: ['setWeights'],
    },
    {
      name: 'Progressing at maxWeight, confirm-promotion fails → WaitingPromotion',
      spec: makeSpec({ webhooks: [hook('confirm-promotion')] }),
      ...running(50, {}, { webhooks: results('confirm-promotion', failed) }),
      phase: 'WaitingPromotion',
      weight: 50,
      failedChecks: 0,
      actions: ['notify'],
      without: ['promote'],
    },
    {
      name: 'WaitingPromotion, confirm-promotion passes → Promoting',
      spec: makeSpec({ webhooks: [hook('confirm-promotion')] }),
      ...running(50, { phase: 'WaitingPromotion' }, { webhooks: results('confirm-promotion', passed) }),
      phase: 'Promoting',
      actions: ['promote'],
    },
    {
      name: 'WaitingPromotion, failedChecks at threshold → Failed',
      ...running(50, { phase: 'WaitingPromotion', failedChecks: 2 }),
      phase: 'Failed',
      weight: 0,
      setWeights: [[100, 0]],
      actions: ['setWeights', 'scaleTargetToZero', 'callWebhooks'],
      without: ['promote'],
    },
    {
      name: 'Progressing, rollback webhook invoked → Failed',
      spec: makeSpec({ webhooks: [hook('rollback')] }),
      ...running(30, {}, { webhooks: results('rollback', passed) }),
      phase: 'Failed',
      weight: 0,
      lastPromotedSpec: OLD,
      setWeights: [[100, 0]],
      actions: ['scaleTargetToZero'],
      without: ['promote'],
    },
    {
      name: 'Progressing, rollback webhook closed → analysis goes on',
      spec: makeSpec({ webhooks: [hook('rollback')] }),
      ...running(30, {}, { webhooks: results('rollback', failed) }),
      phase: 'Progressing',
      weight: 40,
      failedChecks: 0,
    },
    {
      name: 'Promoting, primary not updated yet → waits',
      status: makeStatus({ phase: 'Promoting', canaryWeight: 50, lastAppliedSpec: NEW }),
      obs: makeObs({ targetRevision: NEW, routes: { primary: 50, canary: 50 } }),
      phase: 'Promoting',
      weight: 50,
      without: ['setWeights'],
    },
    {
      name: 'Promoting, primary updated but not ready → waits',
      status: makeStatus({ phase: 'Promoting', canaryWeight: 50, lastAppliedSpec: NEW }),
      obs: makeObs({
        targetRevision: NEW,
        routes: { primary: 50, canary: 50 },
        primary: { desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 1, revision: NEW },
      }),
      phase: 'Promoting',
      without: ['setWeights'],
    },
    {
      name: 'Promoting, primary updated and ready → Finalising, all traffic to primary',
      status: makeStatus({ phase: 'Promoting', canaryWeight: 50, lastAppliedSpec: NEW }),
      obs: makeObs({
        targetRevision: NEW,
        routes: { primary: 50, canary: 50 },
        primary: { ...ready(), revision: NEW },
      }),
      phase: 'Finalising',
      weight: 0,
      setWeights: [[100, 0]],
    },
    {
      name: 'Promoting with stepWeightPromotion 30 at 50 → primary 80, stays Promoting',
      spec: makeSpec({ stepWeightPromotion: 30 }),
      status: makeStatus({ phase: 'Promoting', canaryWeight: 50, lastAppliedSpec: NEW }),
      obs: makeObs({
        targetRevision: NEW,
        routes: { primary: 50, canary: 50 },
        primary: { ...ready(), revision: NEW },
      }),
      phase: 'Promoting',
      weight: 20,
      setWeights: [[80, 20]],
    },
    {
      name: 'Promoting with stepWeightPromotion 30 at 20 → Finalising',
      spec: makeSpec({ stepWeightPromotion: 30 }),
      status: makeStatus({ phase: 'Promoting', canaryWeight: 20, lastAppliedSpec: NEW }),
      obs: makeObs({
        targetRevision: NEW,
        routes: { primary: 80, canary: 20 },
        primary: { ...ready(), revision: NEW },
      }),
      phase: 'Finalising',
      weight: 0,
      setWeights: [[100, 0]],
    },
    {
      name: 'Finalising → Succeeded, target scaled to zero, revision promoted',
      status: makeStatus({ phase: 'Finalising', lastAppliedSpec: NEW }),
      obs: makeObs({ targetRevision: NEW, primary: { ...ready(), revision: NEW } }),
      phase: 'Succeeded',
      lastPromotedSpec: NEW,
      actions: ['scaleTargetToZero', 'callWebhooks', 'notify'],
    },
    {
      name: 'Progressing, primary not ready → no progress',
      ...running(20, {}, { primary: { ...ready(), readyReplicas: 0, revision: OLD } }),
      phase: 'Progressing',
      weight: 20,
      without: ['setWeights'],
      actions: ['event'],
    },
  ];

  it.each(rows)('$name', (row) => {
    const { status, actions } = decided(run(row.spec ?? makeSpec(), row.status, row.obs, row.nowMs));
    expect(status.phase).toBe(row.phase);
    if (row.weight !== undefined) expect(status.canaryWeight).toBe(row.weight);
    if (row.failedChecks !== undefined) expect(status.failedChecks).toBe(row.failedChecks);
    if (row.lastAppliedSpec !== undefined) expect(status.lastAppliedSpec).toBe(row.lastAppliedSpec);
    if (row.lastPromotedSpec !== undefined) expect(status.lastPromotedSpec).toBe(row.lastPromotedSpec);
    if (row.setWeights !== undefined) expect(weights(actions)).toEqual(row.setWeights);
    const got = types(actions);
    if (row.actions !== undefined) {
      expect(got.filter((a) => row.actions?.includes(a) ?? false)).toEqual(
        expect.arrayContaining(row.actions),
      );
      const positions = row.actions.map((a) => got.indexOf(a));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    for (const absent of row.without ?? []) expect(got).not.toContain(absent);
    expect(status.observedGeneration).toBe(3);
    const changed = status.phase !== (row.status.phase ?? '');
    expect(status.lastTransitionTime).toBe(changed ? new Date(row.nowMs ?? NOW).toISOString() : T0_ISO);
  });
});

describe('step(): thresholds and deadlines', () => {
  it.each([
    { failedChecks: 1, threshold: 2, phase: 'Progressing', weight: 40 },
    { failedChecks: 2, threshold: 2, phase: 'Failed', weight: 0 },
    { failedChecks: 4, threshold: 5, phase: 'Progressing', weight: 40 },
    { failedChecks: 5, threshold: 5, phase: 'Failed', weight: 0 },
  ])(
    'failedChecks $failedChecks with threshold $threshold → $phase',
    ({ failedChecks, threshold, phase, weight }) => {
      const { status: s, obs } = running(30, { failedChecks });
      const { status, actions } = decided(run(makeSpec({ threshold }), s, obs));
      expect(status.phase).toBe(phase);
      expect(status.canaryWeight).toBe(weight);
      expect(status.failedChecks).toBe(failedChecks);
      if (phase === 'Failed') {
        expect(weights(actions)).toEqual([[100, 0]]);
        expect(types(actions)).toContain('scaleTargetToZero');
        expect(promoted(status)?.status).toBe('False');
        expect(promoted(status)?.message).toMatch(/threshold of/);
      }
    },
  );

  const notReady: WorkloadObservation = { desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 1 };
  it.each([
    { afterMs: 600_000, phase: 'Progressing' },
    { afterMs: 600_001, phase: 'Failed' },
  ])(
    'canary not ready $afterMs ms after the last transition (deadline 600s) → $phase',
    ({ afterMs, phase }) => {
      const { status: s, obs } = running(20, {}, { canary: notReady });
      const { status, actions } = decided(run(makeSpec(), s, obs, T0 + afterMs));
      expect(status.phase).toBe(phase);
      if (phase === 'Failed') {
        expect(weights(actions)).toEqual([[100, 0]]);
        expect(promoted(status)?.message).toMatch(/progress deadline/);
      } else {
        expect(weights(actions)).toEqual([]);
        expect(actions).toContainEqual(expect.objectContaining({ type: 'event', reason: 'CanaryNotReady' }));
      }
    },
  );

  it.each([
    { w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 2 }, threshold: 50, ready: true },
    { w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 1 }, threshold: 50, ready: false },
    { w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 3 }, threshold: 100, ready: true },
    { w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 2 }, threshold: 100, ready: false },
    { w: { desiredReplicas: 3, updatedReplicas: 2, readyReplicas: 3 }, threshold: 50, ready: false },
    // An old pod still running beside three updated ones: the rollout is not done.
    {
      w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 3, replicas: 4 },
      threshold: 100,
      ready: false,
    },
    {
      w: { desiredReplicas: 3, updatedReplicas: 3, readyReplicas: 3, replicas: 3 },
      threshold: 100,
      ready: true,
    },
    { w: scaledDown, threshold: 0, ready: false },
  ])('isReady($w, $threshold%) = $ready', ({ w, threshold, ready: expected }) => {
    expect(isReady(w, threshold)).toBe(expected);
  });

  it('canaryReadyThreshold lets a partly ready canary advance', () => {
    const { status: s, obs } = running(
      20,
      {},
      { canary: { desiredReplicas: 4, updatedReplicas: 4, readyReplicas: 2 } },
    );
    expect(decided(run(makeSpec({ canaryReadyThreshold: 50 }), s, obs)).status.canaryWeight).toBe(30);
    expect(decided(run(makeSpec({ canaryReadyThreshold: 100 }), s, obs)).status.canaryWeight).toBe(20);
  });
});

describe('step(): canary weights', () => {
  it.each([
    { analysis: { maxWeight: 50, stepWeight: 10 }, seq: [10, 20, 30, 40, 50] },
    { analysis: { maxWeight: 50, stepWeight: 20 }, seq: [20, 40, 50] },
    { analysis: { maxWeight: 100, stepWeight: 30 }, seq: [30, 60, 90, 100] },
    { analysis: { stepWeight: undefined, stepWeights: [1, 5, 20, 50, 80] }, seq: [1, 5, 20, 50, 80] },
    { analysis: { stepWeight: undefined, stepWeights: [25] }, seq: [25] },
  ])('$analysis steps through $seq then promotes', ({ analysis, seq }) => {
    const spec = makeSpec(analysis);
    const got: number[] = [];
    let weight = 0;
    for (let i = 0; i < 10; i++) {
      const { status: s, obs } = running(weight);
      const { status, actions } = decided(run(spec, s, obs));
      if (status.phase === 'Promoting') break;
      expect(status.phase).toBe('Progressing');
      expect(weights(actions)).toEqual([[100 - status.canaryWeight!, status.canaryWeight!]]);
      weight = status.canaryWeight ?? -1;
      got.push(weight);
    }
    expect(got).toEqual(seq);
    expect(canaryMaxWeight(spec.analysis)).toBe(seq[seq.length - 1]);
  });

  it('nextCanaryWeight picks the first stepWeights entry above a weight that is off the list', () => {
    expect(nextCanaryWeight(makeSpec({ stepWeights: [10, 30, 60] }).analysis, 15)).toBe(30);
  });

  it('uses the weight the router serves, not the stored one', () => {
    const { status: s, obs } = running(20, {}, { routes: { primary: 90, canary: 10 } });
    expect(decided(run(makeSpec(), s, obs)).status.canaryWeight).toBe(20);
  });

  it('confirm-traffic-increase failing holds the weight without a failed check', () => {
    const spec = makeSpec({ webhooks: [hook('confirm-traffic-increase')] });
    const closed = running(20, {}, { webhooks: results('confirm-traffic-increase', failed) });
    const held = decided(run(spec, closed.status, closed.obs));
    expect(held.status).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 0 });
    expect(weights(held.actions)).toEqual([]);
    expect(held.actions).toContainEqual(expect.objectContaining({ reason: 'WaitingTrafficIncrease' }));

    const open = running(20, {}, { webhooks: results('confirm-traffic-increase', passed) });
    expect(decided(run(spec, open.status, open.obs)).status.canaryWeight).toBe(30);
  });

  it('confirm-traffic-increase is not asked at maxWeight (promotion is not a traffic increase)', () => {
    const spec = makeSpec({ webhooks: [hook('confirm-traffic-increase')] });
    const { status: s, obs } = running(50);
    expect(decided(run(spec, s, obs)).status.phase).toBe('Promoting');
  });
});

describe('step(): metric verdicts', () => {
  const spec = makeSpec({ metrics: [{ name: 'request-success-rate' }, { name: 'request-duration' }] });
  it.each([
    { verdicts: ['pass', 'pass'], weight: 40, failedChecks: 0 },
    { verdicts: ['pass', 'fail'], weight: 30, failedChecks: 1 },
    { verdicts: ['fail', 'fail'], weight: 30, failedChecks: 1 },
    { verdicts: ['hold', 'pass'], weight: 30, failedChecks: 0 },
    { verdicts: ['hold', 'fail'], weight: 30, failedChecks: 1 },
    { verdicts: ['dry-run', 'pass'], weight: 40, failedChecks: 0 },
    { verdicts: ['dry-run', 'dry-run'], weight: 40, failedChecks: 0 },
  ] as const)(
    '$verdicts → weight $weight, failedChecks $failedChecks',
    ({ verdicts, weight, failedChecks }) => {
      const vs = verdicts.map((o, i) => verdict(o, `m${i}`));
      const { status: s, obs } = running(30, {}, { verdicts: vs });
      const { status, actions } = decided(run(spec, s, obs));
      expect(status.canaryWeight).toBe(weight);
      expect(status.failedChecks).toBe(failedChecks);
      expect(actions.filter((a) => a.type === 'recordMetric')).toHaveLength(vs.length);
    },
  );

  it('asks for metrics only after the rollout webhooks passed, then decides', () => {
    const withHooks = makeSpec({ metrics: [{ name: 'request-success-rate' }], webhooks: [hook('rollout')] });
    const { status: s, obs } = running(30);
    expect(run(withHooks, s, obs)).toEqual({
      kind: 'gather',
      request: { type: 'runWebhooks', webhookType: 'rollout' },
    });
    const afterHooks = { ...obs, webhooks: results('rollout', passed) };
    expect(run(withHooks, s, afterHooks)).toEqual({ kind: 'gather', request: { type: 'runMetrics' } });
    const afterFailingHooks = { ...obs, webhooks: results('rollout', failed) };
    expect(decided(run(withHooks, s, afterFailingHooks)).status.failedChecks).toBe(1);
    expect(
      decided(run(withHooks, s, { ...afterHooks, verdicts: [verdict('pass')] })).status.canaryWeight,
    ).toBe(40);
  });

  it('does not run metrics at weight 0 (pre-rollout tick)', () => {
    const { status: s, obs } = running(0);
    const r = decided(run(spec, s, obs));
    expect(r.status.canaryWeight).toBe(10);
    expect(types(r.actions)).not.toContain('recordMetric');
  });
});

describe('step(): restarts, skipAnalysis, suspend, status', () => {
  it.each(['Progressing', 'WaitingPromotion'] as const)(
    'a new revision during %s restarts the analysis',
    (phase) => {
      const { status: s, obs } = running(40, { phase, failedChecks: 1 }, { targetRevision: NEWER });
      const { status, actions } = decided(run(makeSpec(), s, obs));
      expect(status).toMatchObject({ phase: 'Progressing', canaryWeight: 0, failedChecks: 0, iterations: 0 });
      expect(status.lastAppliedSpec).toBe(NEWER);
      expect(status.lastPromotedSpec).toBe(OLD);
      expect(weights(actions)).toEqual([[100, 0]]);
      expect(types(actions)).not.toContain('promote');
    },
  );

  it.each([
    { name: 'on a new revision', ...{ status: makeStatus(), obs: makeObs({ targetRevision: NEW }) } },
    { name: 'mid-run', ...running(30) },
  ])('skipAnalysis promotes at once $name', ({ status: s, obs }) => {
    const spec = makeSpec({ webhooks: [hook('confirm-rollout')] }, { skipAnalysis: true });
    const { status, actions } = decided(run(spec, s, obs));
    expect(status).toMatchObject({
      phase: 'Succeeded',
      canaryWeight: 0,
      lastAppliedSpec: NEW,
      lastPromotedSpec: NEW,
    });
    expect(actions).toContainEqual({ type: 'promote', revision: NEW });
    expect(weights(actions)).toEqual([[100, 0]]);
    expect(promoted(status)?.status).toBe('True');
  });

  it.each([makeStatus({ phase: 'Initialized' }), running(30).status, makeStatus({ phase: 'Promoting' }), {}])(
    'suspend does nothing (%#)',
    (s) => {
      const { status, actions } = decided(
        run(makeSpec({}, { suspend: true }), s, makeObs({ targetRevision: NEWER })),
      );
      expect(actions).toEqual([]);
      expect(status).toEqual(s);
    },
  );

  it('a strategy that cannot run is reported, never replaced by another', () => {
    const { status: s, obs } = running(0);
    const { status, actions } = decided(run(makeSpec({ stepWeight: undefined }), s, obs));
    expect(status.phase).toBe('Progressing');
    expect(weights(actions)).toEqual([]);
    expect(actions).toContainEqual(expect.objectContaining({ reason: 'InvalidSpec', eventType: 'Warning' }));
  });

  it.each([
    { phase: 'Initialized', condition: 'True' },
    { phase: 'Succeeded', condition: 'True' },
    { phase: 'Failed', condition: 'False' },
    { phase: 'Progressing', condition: 'Unknown' },
    { phase: 'Waiting', condition: 'Unknown' },
  ] as const)('Promoted condition is $condition when $phase, reason = phase', ({ phase, condition }) => {
    // A waiting canary stays Waiting only while its confirm-rollout webhook keeps failing.
    const spec = makeSpec({ webhooks: [hook('confirm-rollout')] });
    const target = phase === 'Waiting' ? NEWER : NEW;
    const obs = makeObs({ targetRevision: target, webhooks: results('confirm-rollout', failed) });
    const { status } = decided(run(spec, makeStatus({ phase, lastAppliedSpec: NEW }), obs));
    const c = promoted(status);
    expect(c).toMatchObject({ type: 'Promoted', status: condition, reason: phase });
    expect(c?.message?.length).toBeGreaterThan(10);
  });

  it('keeps the condition transition time while the condition status stays the same', () => {
    const first = decided(run(makeSpec(), running(10).status, running(10).obs)).status;
    const second = decided(run(makeSpec(), first, running(20).obs, NOW + 60_000)).status;
    expect(promoted(second)?.lastTransitionTime).toBe(promoted(first)?.lastTransitionTime);
    expect(promoted(second)?.lastUpdateTime).toBe(new Date(NOW + 60_000).toISOString());
    expect(second.lastTransitionTime).toBe(T0_ISO);
  });
});

// ---- simulation: step() tick by tick against a scripted world

interface World {
  targetRevision: string;
  routes: { primary: number; canary: number };
  primaryRevision: string;
  canaryUp: boolean;
  promotions: string[];
}

function observe(w: World): Observations {
  return {
    generation: 1,
    primary: { ...ready(), revision: w.primaryRevision },
    canary: w.canaryUp ? ready() : scaledDown,
    routes: { ...w.routes },
    targetRevision: w.targetRevision,
  };
}

/** Executes actions the way the shell would, instantly (a primary rollout is ready by the next tick). */
function execute(w: World, actions: Action[]): void {
  for (const a of actions) {
    if (a.type === 'setWeights') w.routes = { primary: a.primary, canary: a.canary };
    if (a.type === 'promote') {
      w.primaryRevision = a.revision;
      w.promotions.push(a.revision);
    }
    if (a.type === 'scaleTargetUp') w.canaryUp = true;
    if (a.type === 'scaleTargetToZero') w.canaryUp = false;
  }
}

async function simulate(
  spec: SchedulerSpec,
  metricOutcome: (weight: number) => Verdict['outcome'],
  maxTicks = 50,
) {
  const intervalMs = 60_000;
  const w: World = {
    targetRevision: NEW,
    routes: { primary: 100, canary: 0 },
    primaryRevision: OLD,
    canaryUp: false,
    promotions: [],
  };
  let status = makeStatus();
  let nowMs = T0;
  const phases: string[] = [];
  const gathered: string[] = [];
  for (let tick = 0; tick < maxTicks; tick++) {
    const input: StepInput = { spec, status, observations: observe(w), nowMs };
    const settled = await settleStep(input, {
      runWebhooks: (type): Promise<WebhookOutcome[]> => {
        gathered.push(type);
        return Promise.resolve([{ name: type, result: passed }]);
      },
      runMetrics: () => {
        gathered.push(`metrics@${w.routes.canary}`);
        return Promise.resolve([verdict(metricOutcome(w.routes.canary))]);
      },
    });
    status = settled.status;
    execute(w, settled.actions);
    phases.push(`${status.phase}:${status.canaryWeight}`);
    nowMs += intervalMs;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') break;
  }
  return { status, world: w, phases, gathered, elapsedMs: nowMs - T0 };
}

describe('simulation', () => {
  const spec = makeSpec({
    threshold: 3,
    maxWeight: 100,
    stepWeight: 20,
    metrics: [{ name: 'request-success-rate' }],
    webhooks: [hook('pre-rollout'), hook('rollout'), hook('confirm-promotion')],
  });

  it('a good run advances every interval to maxWeight, promotes and ends Succeeded at weight 0', async () => {
    const { status, world, phases, gathered, elapsedMs } = await simulate(spec, () => 'pass');
    const analysisTicks = 100 / 20;
    expect(phases).toEqual([
      'Progressing:0', // new revision detected, target scaled up
      'Progressing:20', // pre-rollout, first step
      'Progressing:40',
      'Progressing:60',
      'Progressing:80',
      'Progressing:100',
      'Promoting:100', // analysis at max weight passes, confirm-promotion, spec copied
      'Finalising:0', // primary ready on the new revision, traffic back to it
      'Succeeded:0', // target scaled to zero
    ]);
    // interval × (maxWeight / stepWeight) ticks of traffic shifting, plus detection, promotion and finalising.
    expect(elapsedMs).toBe(60_000 * (analysisTicks + 4));
    expect(status).toMatchObject({ phase: 'Succeeded', canaryWeight: 0, failedChecks: 0 });
    expect(status.lastPromotedSpec).toBe(NEW);
    expect(status.lastAppliedSpec).toBe(NEW);
    expect(world).toMatchObject({
      routes: { primary: 100, canary: 0 },
      primaryRevision: NEW,
      canaryUp: false,
    });
    expect(world.promotions).toEqual([NEW]);
    expect(gathered.filter((g) => g === 'pre-rollout')).toHaveLength(1);
    expect(gathered.filter((g) => g.startsWith('metrics@'))).toHaveLength(analysisTicks);
  });

  it('a bad run ends Failed after threshold failed checks, traffic back to the primary', async () => {
    const { status, world, phases } = await simulate(spec, (weight) => (weight >= 40 ? 'fail' : 'pass'));
    expect(phases).toEqual([
      'Progressing:0',
      'Progressing:20',
      'Progressing:40', // metrics at 20 pass
      'Progressing:40', // failed check 1
      'Progressing:40', // failed check 2
      'Progressing:40', // failed check 3 = threshold
      'Failed:0', // rolled back at the next tick
    ]);
    expect(status).toMatchObject({ phase: 'Failed', canaryWeight: 0, failedChecks: 3 });
    expect(status.lastPromotedSpec).toBe(OLD);
    expect(world).toMatchObject({
      routes: { primary: 100, canary: 0 },
      primaryRevision: OLD,
      canaryUp: false,
    });
    expect(world.promotions).toEqual([]);
  });
});
