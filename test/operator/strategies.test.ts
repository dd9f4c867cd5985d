// The A/B testing, blue/green (with and without mirroring) and session-affinity strategies of SPEC §3.4,
// through the pure step(): whole runs tick by tick against a scripted world that serves what was asked.
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../analysis/types.js';
import type { WebhookResult } from '../../analysis/webhooks.js';
import type { Action } from '../../operator/scheduler/actions.js';
import { settleStep } from '../../operator/scheduler/settle.js';
import type { RouteState } from '../../operator/scheduler/strategies/strategy.js';
import { selectStrategy } from '../../operator/scheduler/strategies/strategy.js';
import type {
  CanaryStatus,
  GatingWebhookType,
  Observations,
  SchedulerSpec,
  WorkloadObservation,
} from '../../operator/scheduler/types.js';
import { step } from '../../operator/scheduler/step.js';

const OLD = 'rev-old';
const NEW = 'rev-new';
const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const INSIDERS = [{ headers: { 'x-canary': { exact: 'insider' } } }];

type Analysis = SchedulerSpec['analysis'];
type Hook = Analysis['webhooks'][number];

function makeSpec(analysis: Partial<Analysis>): SchedulerSpec {
  return {
    progressDeadlineSeconds: 600,
    skipAnalysis: false,
    suspend: false,
    analysis: {
      threshold: 2,
      maxWeight: 100,
      primaryReadyThreshold: 100,
      canaryReadyThreshold: 100,
      mirror: false,
      match: [],
      metrics: [{ name: 'request-success-rate' }],
      webhooks: [],
      ...analysis,
    },
  };
}

const ready = (): WorkloadObservation => ({ desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 2 });
const hook = (type: Hook['type']): Hook => ({ name: type, type });
const passed: WebhookResult = { outcome: 'passed', status: 200, attempts: 1 };
const failed: WebhookResult = { outcome: 'failed', status: 403, bodyExcerpt: 'closed', attempts: 1 };
const verdict = (outcome: Verdict['outcome']): Verdict => ({
  metric: 'request-success-rate',
  value: 99,
  threshold: { min: 99 },
  outcome,
  reason: outcome,
});

const routesOf = (actions: Action[]): RouteState[] =>
  actions.flatMap((a) => {
    if (a.type !== 'setWeights') return [];
    const { type: _type, ...routes } = a;
    return [routes];
  });

interface Tick {
  phase: string;
  weight: number;
  iterations: number;
  /** The routes set this tick, if any. */
  routes?: RouteState;
  gathered: string[];
  /** status.sessionAffinityCookie and previousSessionAffinityCookie after the tick ('' when absent). */
  cookies: [string, string];
}

/**
 * Runs a revision from Initialized to Succeeded or Failed: every action is applied at once (the routes are
 * served as asked, a promoted primary is ready by the next tick), metrics answer `metric(routes)`, webhooks
 * answer `hookResult(type, routes)`.
 */
async function simulate(
  spec: SchedulerSpec,
  metric: (served: RouteState) => Verdict['outcome'] = () => 'pass',
  hookResult: (type: GatingWebhookType, served: RouteState) => WebhookResult = () => passed,
): Promise<Tick[]> {
  let served: RouteState = { primary: 100, canary: 0 };
  let primaryRevision = OLD;
  let status: CanaryStatus = {
    phase: 'Initialized',
    canaryWeight: 0,
    failedChecks: 0,
    iterations: 0,
    lastAppliedSpec: OLD,
    lastPromotedSpec: OLD,
    lastTransitionTime: new Date(T0).toISOString(),
  };
  const ticks: Tick[] = [];
  for (let i = 0; i < 20; i++) {
    const observations: Observations = {
      generation: 1,
      primary: { ...ready(), revision: primaryRevision },
      canary: ready(),
      routes: { primary: served.primary, canary: served.canary },
      targetRevision: NEW,
    };
    const gathered: string[] = [];
    const settled = await settleStep(
      { spec, status, observations, nowMs: T0 + i * 60_000 },
      {
        runWebhooks: (type) => {
          gathered.push(type);
          return Promise.resolve([{ name: type, result: hookResult(type, served) }]);
        },
        runMetrics: () => {
          gathered.push('metrics');
          return Promise.resolve([verdict(metric(served))]);
        },
      },
    );
    status = settled.status;
    const set = routesOf(settled.actions);
    for (const r of set) served = r;
    for (const a of settled.actions) if (a.type === 'promote') primaryRevision = a.revision;
    ticks.push({
      phase: status.phase ?? '',
      weight: status.canaryWeight ?? 0,
      iterations: status.iterations ?? 0,
      ...(set.length > 0 ? { routes: set[set.length - 1] } : {}),
      gathered,
      cookies: [status.sessionAffinityCookie ?? '', status.previousSessionAffinityCookie ?? ''],
    });
    if (status.phase === 'Succeeded' || status.phase === 'Failed') break;
  }
  return ticks;
}

const brief = (ticks: Tick[]) => ticks.map((t) => `${t.phase}:${t.weight}:${t.iterations}`);

describe('selectStrategy (Flagger’s rule)', () => {
  it.each([
    [{ stepWeight: 10 }, 'canary'],
    [{ iterations: 2, match: INSIDERS }, 'ab-testing'],
    [{ iterations: 2 }, 'blue-green'],
    [{ iterations: 2, mirror: true }, 'blue-green-mirroring'],
  ] as const)('%j → %s', (analysis, name) => {
    const choice = selectStrategy(makeSpec(analysis).analysis);
    expect(choice.ok && choice.strategy.name).toBe(name);
  });

  it('a mirrorWeight out of range is reported, not clamped', () => {
    expect(selectStrategy(makeSpec({ iterations: 2, mirror: true, mirrorWeight: 0 }).analysis)).toEqual({
      ok: false,
      message: 'analysis.mirrorWeight must be 1..100',
    });
  });
});

describe('A/B testing', () => {
  const spec = makeSpec({
    iterations: 2,
    match: INSIDERS,
    webhooks: [hook('pre-rollout'), hook('confirm-traffic-increase'), hook('confirm-promotion')],
  });

  it('sends the matching requests to the canary for the iterations, then promotes and restores the plain route', async () => {
    const ticks = await simulate(spec);
    expect(brief(ticks)).toEqual([
      'Progressing:0:0', // new revision: plain 100/0
      'Progressing:100:1', // pre-rollout passed: the match route goes to the canary
      'Progressing:100:2',
      'Promoting:100:2', // iterations done: confirm-promotion, spec copied
      'Finalising:0:2',
      'Succeeded:0:2',
    ]);
    expect(ticks[0]?.routes).toEqual({ primary: 100, canary: 0 });
    expect(ticks[1]?.routes).toEqual({ primary: 0, canary: 100, match: INSIDERS });
    expect(ticks[2]?.routes).toEqual({ primary: 0, canary: 100, match: INSIDERS });
    expect(ticks[4]?.routes).toEqual({ primary: 100, canary: 0 });
    // Pre-rollout once, metrics on every later analysis tick; no confirm-traffic-increase (Flagger's A/B).
    expect(ticks.flatMap((t) => t.gathered)).toEqual([
      'pre-rollout',
      'metrics',
      'metrics',
      'confirm-promotion',
    ]);
  });

  it('a failing check holds the iteration count; at the threshold the run fails on the plain route', async () => {
    const ticks = await simulate(spec, (served) => (served.canary > 0 ? 'fail' : 'pass'));
    expect(brief(ticks)).toEqual([
      'Progressing:0:0',
      'Progressing:100:1',
      'Progressing:100:1', // failed check 1
      'Progressing:100:1', // failed check 2
      'Failed:0:1',
    ]);
    expect(ticks[4]?.routes).toEqual({ primary: 100, canary: 0 });
  });
});

describe('blue/green', () => {
  it('gives the canary no user traffic during the iterations, switches behind confirm-promotion, then promotes', async () => {
    const spec = makeSpec({ iterations: 2, webhooks: [hook('confirm-promotion')] });
    const ticks = await simulate(spec);
    expect(brief(ticks)).toEqual([
      'Progressing:0:0',
      'Progressing:0:1',
      'Progressing:0:2',
      'Progressing:100:3', // the switch: all traffic to the canary
      'Promoting:100:3', // one analysis under all the traffic, confirm-promotion again
      'Finalising:0:3',
      'Succeeded:0:3',
    ]);
    expect(ticks.slice(0, 3).map((t) => t.routes)).toEqual([
      { primary: 100, canary: 0 },
      { primary: 100, canary: 0 },
      { primary: 100, canary: 0 },
    ]);
    expect(ticks[3]?.routes).toEqual({ primary: 0, canary: 100 });
    expect(ticks[5]?.routes).toEqual({ primary: 100, canary: 0 });
    expect(ticks.flatMap((t) => t.gathered).filter((g) => g === 'confirm-promotion')).toHaveLength(2);
  });

  it('a closed confirm-promotion holds the switch in WaitingPromotion; opening it switches', async () => {
    const spec = makeSpec({ iterations: 1, webhooks: [hook('confirm-promotion')] });
    let open = false;
    const ticks = await simulate(
      spec,
      () => 'pass',
      (type) => {
        if (type !== 'confirm-promotion') return passed;
        const result = open ? passed : failed;
        open = true; // the second call passes
        return result;
      },
    );
    expect(brief(ticks).slice(0, 4)).toEqual([
      'Progressing:0:0',
      'Progressing:0:1',
      'WaitingPromotion:0:1',
      'Progressing:100:2',
    ]);
    expect(ticks[2]?.routes).toBeUndefined();
  });

  it('with mirroring: the iterations mirror mirrorWeight% to the canary, the switch and the end drop the mirror', async () => {
    const spec = makeSpec({ iterations: 2, mirror: true, mirrorWeight: 40 });
    const ticks = await simulate(spec);
    expect(ticks.map((t) => t.routes)).toEqual([
      { primary: 100, canary: 0 }, // start: nothing mirrored before pre-rollout
      { primary: 100, canary: 0, mirror: { weightPercent: 40 } },
      { primary: 100, canary: 0, mirror: { weightPercent: 40 } },
      { primary: 0, canary: 100 },
      undefined,
      { primary: 100, canary: 0 },
      undefined,
    ]);
  });

  it('with mirroring and no mirrorWeight: everything is mirrored; a rollback drops the mirror', async () => {
    const spec = makeSpec({ iterations: 3, mirror: true });
    const ticks = await simulate(spec, (served) => (served.mirror ? 'fail' : 'pass'));
    // No session affinity: the status names no cookie.
    expect(ticks.every((t) => t.cookies[0] === '' && t.cookies[1] === '')).toBe(true);
    expect(ticks[1]?.routes).toEqual({ primary: 100, canary: 0, mirror: { weightPercent: 100 } });
    expect(ticks[ticks.length - 1]).toMatchObject({ phase: 'Failed', routes: { primary: 100, canary: 0 } });
  });
});

describe('canary with session affinity', () => {
  const affinity = { cookieName: 'canary-session', maxAge: 3600 };
  const cookie = (maxAgeSeconds: number) => ({
    cookieName: 'canary-session',
    cookieValue: NEW,
    maxAgeSeconds,
  });

  it('every weighted step carries the run’s cookie; the end expires it', async () => {
    const spec = makeSpec({ stepWeight: 50, sessionAffinity: affinity });
    const ticks = await simulate(spec);
    expect(brief(ticks)).toEqual([
      'Progressing:0:0',
      'Progressing:50:0',
      'Progressing:100:0',
      'Promoting:100:0',
      'Finalising:0:0',
      'Succeeded:0:0',
    ]);
    expect(ticks[1]?.routes).toEqual({ primary: 50, canary: 50, sessionAffinity: cookie(3600) });
    expect(ticks[2]?.routes).toEqual({ primary: 0, canary: 100, sessionAffinity: cookie(3600) });
    // At weight 0 the routes expire the cookie for the clients that still send it.
    expect(ticks[4]?.routes).toEqual({ primary: 100, canary: 0, sessionAffinity: cookie(3600) });
    // The status names the run's cookie while the canary has weight, then as the previous (expired) one.
    const run = `canary-session=${NEW}`;
    expect(ticks.map((t) => t.cookies)).toEqual([
      ['', ''],
      [run, ''],
      [run, ''],
      [run, ''],
      ['', run],
      ['', run],
    ]);
  });

  it('a rollback keeps the cookie routes at weight 0 (expiring it)', async () => {
    const spec = makeSpec({ stepWeight: 20, sessionAffinity: affinity, threshold: 1 });
    const ticks = await simulate(spec, (served) => (served.canary >= 20 ? 'fail' : 'pass'));
    expect(ticks[ticks.length - 1]).toMatchObject({
      phase: 'Failed',
      routes: { primary: 100, canary: 0, sessionAffinity: cookie(3600) },
      cookies: ['', `canary-session=${NEW}`],
    });
    expect(ticks.some((t) => t.cookies[0] === `canary-session=${NEW}`)).toBe(true);
  });

  it('stepWeightPromotion keeps the cookie while the canary still has weight', () => {
    const spec = makeSpec({ stepWeight: 50, stepWeightPromotion: 60, sessionAffinity: affinity });
    const r = step({
      spec,
      status: { phase: 'Promoting', canaryWeight: 100, lastAppliedSpec: NEW, lastPromotedSpec: OLD },
      observations: {
        generation: 1,
        primary: { ...ready(), revision: NEW },
        canary: ready(),
        routes: { primary: 0, canary: 100 },
        targetRevision: NEW,
      },
      nowMs: T0,
    });
    expect(r.kind === 'decided' && routesOf(r.actions)).toEqual([
      { primary: 60, canary: 40, sessionAffinity: cookie(3600) },
    ]);
  });
});
