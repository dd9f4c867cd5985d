// Table tests of step()'s manual control (SPEC §3.6: fledge.dev/{promote,abort,resume,retry}) and of rollout
// windows (SPEC §2.1 analysis.windows): windowState() at fixed times, and step() holding outside a window.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../operator/scheduler/actions.js';
import { MANUAL_CONDITION, step, WINDOW_CONDITION } from '../../operator/scheduler/step.js';
import type {
  CanaryStatus,
  Observations,
  SchedulerSpec,
  StepResult,
} from '../../operator/scheduler/types.js';
import { windowState } from '../../operator/scheduler/windows.js';

const OLD = 'rev-1';
const NEW = 'rev-2';
const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const NOW = T0 + 30_000;

interface Case {
  phase: CanaryStatus['phase'];
  weight?: number;
  /** The target revision observed (NEW unless set). */
  target?: string;
  /** status.lastAppliedSpec (NEW for running phases and Failed, OLD otherwise, unless set). */
  applied?: string;
  manual?: Observations['manual'];
  window?: Observations['window'];
  spec?: Partial<SchedulerSpec['analysis']> & { suspend?: boolean };
  webhooks?: Observations['webhooks'];
  conditions?: CanaryStatus['conditions'];
}

const w2 = { desiredReplicas: 2, updatedReplicas: 2, readyReplicas: 2 };

function tick(c: Case): StepResult {
  const running = c.phase === 'Progressing' || c.phase === 'WaitingPromotion' || c.phase === 'Failed';
  const weight = c.weight ?? 0;
  const { suspend = false, ...analysis } = c.spec ?? {};
  return step({
    spec: {
      progressDeadlineSeconds: 600,
      skipAnalysis: false,
      suspend,
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
    },
    status: {
      phase: c.phase,
      canaryWeight: weight,
      failedChecks: 1,
      iterations: 0,
      lastAppliedSpec: c.applied ?? (running ? NEW : OLD),
      lastPromotedSpec: OLD,
      lastTransitionTime: new Date(T0).toISOString(),
      ...(c.conditions ? { conditions: c.conditions } : {}),
    },
    observations: {
      generation: 1,
      primary: { ...w2, revision: OLD },
      canary: w2,
      routes: { primary: 100 - weight, canary: weight },
      targetRevision: c.target ?? NEW,
      ...(c.manual ? { manual: c.manual } : {}),
      ...(c.window ? { window: c.window } : {}),
      ...(c.webhooks ? { webhooks: c.webhooks } : {}),
    },
    nowMs: NOW,
  });
}

function decided(r: StepResult): { status: CanaryStatus; actions: Action[] } {
  if (r.kind !== 'decided') throw new Error(`expected a decision, got ${JSON.stringify(r)}`);
  return r;
}

const consumed = (actions: Action[]) => actions.find((a) => a.type === 'consumeAnnotations')?.annotations;
const events = (actions: Action[]) =>
  actions.flatMap((a) => (a.type === 'event' ? [`${a.eventType} ${a.reason}: ${a.message}`] : []));
const condition = (s: CanaryStatus, type: string) => s.conditions?.find((c) => c.type === type);
const failingHook = { name: 'gate', type: 'confirm-promotion' as const };
const closed = { open: false as const, nextStartMs: Date.parse('2024-05-02T09:00:00Z') };

describe('step(): manual requests that apply', () => {
  it.each([
    {
      name: 'promote while Progressing skips the remaining steps: Promoting after this tick',
      c: { phase: 'Progressing', weight: 10, manual: { promote: 'true' } } satisfies Case,
      phase: 'Promoting',
      weight: 10,
      actions: ['promote'],
      event: /Normal Promoting: Promotion requested by fledge.dev\/promote/,
    },
    {
      name: 'promote while WaitingPromotion promotes without the confirm-promotion webhook',
      c: {
        phase: 'WaitingPromotion',
        weight: 50,
        manual: { promote: 'true' },
        spec: { webhooks: [failingHook] },
      } satisfies Case,
      phase: 'Promoting',
      weight: 50,
      actions: ['promote'],
      event: /Promoting/,
    },
    {
      name: 'abort while Progressing rolls back: Failed, weight 0, target scaled to zero',
      c: { phase: 'Progressing', weight: 30, manual: { abort: 'true' } } satisfies Case,
      phase: 'Failed',
      weight: 0,
      actions: ['setWeights', 'scaleTargetToZero'],
      event: /Warning RollingBack: Rolling back: aborted by fledge.dev\/abort/,
    },
    {
      name: 'abort while Waiting fails the waiting revision (it is not started again)',
      c: { phase: 'Waiting', manual: { abort: 'true' } } satisfies Case,
      phase: 'Failed',
      weight: 0,
      applied: NEW,
      actions: ['setWeights', 'scaleTargetToZero'],
      event: /aborted by fledge.dev\/abort/,
    },
    {
      name: 'resume while Waiting starts the run as if confirm-rollout passed',
      c: {
        phase: 'Waiting',
        manual: { resume: 'true' },
        spec: { webhooks: [{ name: 'gate', type: 'confirm-rollout' }] },
      } satisfies Case,
      phase: 'Progressing',
      weight: 0,
      applied: NEW,
      actions: ['scaleTargetUp', 'setWeights'],
      event: /NewRevision/,
    },
    {
      name: 'resume while WaitingPromotion promotes as if confirm-promotion passed',
      c: {
        phase: 'WaitingPromotion',
        weight: 50,
        manual: { resume: 'true' },
        spec: { webhooks: [failingHook] },
      } satisfies Case,
      phase: 'Promoting',
      weight: 50,
      actions: ['promote'],
      event: /Analysis passed/,
    },
    {
      name: 'retry while Failed re-runs the same revision from weight 0 with counters reset',
      c: { phase: 'Failed', manual: { retry: 'true' } } satisfies Case,
      phase: 'Progressing',
      weight: 0,
      applied: NEW,
      actions: ['scaleTargetUp', 'setWeights'],
      event: /Normal Retry: Retrying revision rev-2/,
    },
  ])('$name', ({ c, phase, weight, actions, event, ...rest }) => {
    const r = decided(tick(c));
    expect(r.status.phase).toBe(phase);
    expect(r.status.canaryWeight).toBe(weight);
    if ('applied' in rest) expect(r.status.lastAppliedSpec).toBe(rest.applied);
    const types = r.actions.map((a) => a.type);
    expect(types.filter((t) => actions.includes(t))).toEqual(actions);
    expect(events(r.actions).some((e) => event.test(e))).toBe(true);
    const name = `fledge.dev/${Object.keys(c.manual)[0] ?? ''}`;
    expect(consumed(r.actions)).toEqual({ [name]: 'true' });
    expect(condition(r.status, MANUAL_CONDITION)).toMatchObject({ status: 'True', reason: 'Applied' });
    if (phase === 'Progressing') expect(r.status.failedChecks).toBe(0);
  });

  it('no request: no consume action and no ManualControl condition', () => {
    const r = decided(tick({ phase: 'Progressing', weight: 10 }));
    expect(consumed(r.actions)).toBeUndefined();
    expect(condition(r.status, MANUAL_CONDITION)).toBeUndefined();
  });
});

describe('step(): manual requests that do not apply are consumed and reported', () => {
  it.each([
    { c: { phase: 'Succeeded', manual: { promote: 'true' } }, why: /promote applies while Progressing/ },
    { c: { phase: 'Waiting', manual: { promote: 'true' } }, why: /phase is Waiting/ },
    {
      c: { phase: 'Promoting', manual: { abort: 'true' } },
      why: /no run to abort \(the phase is Promoting\)/,
    },
    { c: { phase: 'Progressing', manual: { resume: 'true' } }, why: /resume applies while Waiting/ },
    { c: { phase: 'Succeeded', manual: { retry: 'true' } }, why: /retry applies to a Failed canary/ },
    {
      c: { phase: 'Failed', target: 'rev-3', manual: { retry: 'true' } },
      why: /revision rev-3 starts a run by itself/,
    },
    {
      c: { phase: 'Progressing', weight: 10, target: 'rev-3', manual: { promote: 'true' } },
      why: /revision rev-3 restarts the analysis/,
    },
    { c: { phase: 'Progressing', manual: { abort: 'true' }, spec: { suspend: true } }, why: /suspended/ },
  ] satisfies { c: Case; why: RegExp }[])('$c.phase + $c.manual → ignored ($why)', ({ c, why }) => {
    const r = decided(tick(c));
    const name = `fledge.dev/${Object.keys(c.manual)[0] ?? ''}`;
    expect(consumed(r.actions)).toEqual({ [name]: 'true' });
    const ignored = events(r.actions).filter((e) => e.startsWith('Normal ManualRequestIgnored'));
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatch(why);
    expect(r.actions.some((a) => a.type === 'promote' || a.type === 'scaleTargetToZero')).toBe(false);
    if (c.spec?.suspend) {
      // Suspended: the status is not touched at all.
      expect(r.status.phase).toBe(c.phase);
      expect(r.status.conditions).toBeUndefined();
    } else {
      expect(condition(r.status, MANUAL_CONDITION)).toMatchObject({ status: 'False', reason: 'Ignored' });
    }
  });

  it('an invalid value is a Warning naming the annotation, cleared, and the canary goes on', () => {
    const r = decided(tick({ phase: 'Progressing', weight: 10, manual: { promote: 'yes' } }));
    expect(consumed(r.actions)).toEqual({ 'fledge.dev/promote': 'yes' });
    expect(events(r.actions)).toContain(
      'Warning InvalidManualRequest: fledge.dev/promote: invalid value "yes" (expected "true"); the annotation was removed',
    );
    expect(condition(r.status, MANUAL_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'InvalidValue',
      message: expect.stringContaining('fledge.dev/promote') as unknown,
    });
    // The tick is an ordinary analysis tick: the weight advances.
    expect(r.status.phase).toBe('Progressing');
    expect(r.status.canaryWeight).toBe(20);
  });

  it('abort wins over promote set at the same time; both are cleared', () => {
    const r = decided(tick({ phase: 'Progressing', weight: 10, manual: { promote: 'true', abort: 'true' } }));
    expect(r.status.phase).toBe('Failed');
    expect(consumed(r.actions)).toEqual({ 'fledge.dev/promote': 'true', 'fledge.dev/abort': 'true' });
    expect(events(r.actions)).toContain(
      'Normal ManualRequestIgnored: fledge.dev/promote ignored: superseded by fledge.dev/abort',
    );
  });
});

describe('windowState(): fixed times', () => {
  const at = (iso: string) => Date.parse(iso);
  it.each([
    { name: 'no windows: always open', windows: [], now: '2024-05-04T03:00:00Z', next: 'open' },
    {
      name: 'weekdays 09:00 UTC for 8h: inside',
      windows: [{ cron: '0 9 * * 1-5', duration: '8h' }],
      now: '2024-05-01T09:00:00Z',
      next: 'open',
    },
    {
      name: 'the last millisecond of the window is inside',
      windows: [{ cron: '0 9 * * 1-5', duration: '8h' }],
      now: '2024-05-01T16:59:59.999Z',
      next: 'open',
    },
    {
      name: 'the end of the window is outside; the next start is the next weekday',
      windows: [{ cron: '0 9 * * 1-5', duration: '8h' }],
      now: '2024-05-01T17:00:00Z',
      next: '2024-05-02T09:00:00.000Z',
    },
    {
      name: 'on a Saturday the next start is Monday',
      windows: [{ cron: '0 9 * * 1-5', duration: '8h' }],
      now: '2024-05-04T10:00:00Z',
      next: '2024-05-06T09:00:00.000Z',
    },
    {
      name: 'a window spanning midnight (22:00 for 4h) is open at 01:30 the next day',
      windows: [{ cron: '0 22 * * *', duration: '4h' }],
      now: '2024-05-02T01:30:00Z',
      next: 'open',
    },
    {
      name: 'the midnight window is closed at 02:00 and reopens at 22:00',
      windows: [{ cron: '0 22 * * *', duration: '4h' }],
      now: '2024-05-02T02:00:00Z',
      next: '2024-05-02T22:00:00.000Z',
    },
    {
      name: '09:00 America/New_York (UTC−4 in May) is open at 13:30 UTC',
      windows: [{ cron: '0 9 * * *', duration: '1h', timezone: 'America/New_York' }],
      now: '2024-05-01T13:30:00Z',
      next: 'open',
    },
    {
      name: '09:00 America/New_York is closed at 09:30 UTC and opens at 13:00 UTC',
      windows: [{ cron: '0 9 * * *', duration: '1h', timezone: 'America/New_York' }],
      now: '2024-05-01T09:30:00Z',
      next: '2024-05-01T13:00:00.000Z',
    },
    {
      name: 'several windows: the earliest next start',
      windows: [
        { cron: '0 9 * * *', duration: '1h', timezone: 'Europe/Berlin' },
        { cron: '0 20 * * *', duration: '1h' },
      ],
      now: '2024-05-01T12:00:00Z',
      next: '2024-05-01T20:00:00.000Z',
    },
    {
      name: 'several windows: open when any is',
      windows: [
        { cron: '0 9 * * *', duration: '1h', timezone: 'Europe/Berlin' },
        { cron: '0 20 * * *', duration: '1h' },
      ],
      now: '2024-05-01T07:15:00Z',
      next: 'open',
    },
    {
      name: 'a cron that never matches: closed with no next start',
      windows: [{ cron: '0 0 30 2 *', duration: '1h' }],
      now: '2024-05-01T07:15:00Z',
      next: 'never',
    },
  ])('$name', ({ windows, now, next }) => {
    const s = windowState(windows, at(now));
    if (next === 'open') expect(s).toEqual({ open: true });
    else if (next === 'never') expect(s).toEqual({ open: false, nextStartMs: undefined });
    else expect(s).toEqual({ open: false, nextStartMs: at(next) });
  });
});

describe('step(): outside every analysis window', () => {
  it('a new revision waits: phase stays, OutsideWindow condition and message name the next start', () => {
    const r = decided(tick({ phase: 'Succeeded', window: closed }));
    expect(r.status.phase).toBe('Succeeded');
    expect(r.status.lastAppliedSpec).toBe(OLD);
    expect(r.actions.map((a) => a.type)).toEqual(['bootstrap', 'event']);
    expect(condition(r.status, WINDOW_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'OutsideWindow',
      message:
        'Outside every analysis window: revision rev-2 waits; the next window opens at 2024-05-02T09:00:00.000Z.',
    });
    expect(condition(r.status, 'Promoted')?.message).toMatch(/next window opens at 2024-05-02T09:00/);
  });

  it('a running canary holds its weight: no advance, no failed check, no deadline', () => {
    const r = decided(tick({ phase: 'Progressing', weight: 20, window: closed }));
    expect(r.status).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 1 });
    expect(r.actions.some((a) => a.type === 'setWeights')).toBe(false);
    expect(condition(r.status, WINDOW_CONDITION)?.message).toMatch(/holding the canary weight at 20%/);
  });

  it('the OutsideWindow event is sent when the hold begins, not on every tick', () => {
    const first = decided(tick({ phase: 'Progressing', weight: 20, window: closed }));
    const again = decided(
      tick({ phase: 'Progressing', weight: 20, window: closed, conditions: first.status.conditions }),
    );
    expect(events(first.actions)).toHaveLength(1);
    expect(events(again.actions)).toHaveLength(0);
  });

  it('an open window advances as usual and removes the condition', () => {
    const held = decided(tick({ phase: 'Progressing', weight: 20, window: closed }));
    const r = decided(
      tick({ phase: 'Progressing', weight: 20, window: { open: true }, conditions: held.status.conditions }),
    );
    expect(r.status.canaryWeight).toBe(30);
    expect(condition(r.status, WINDOW_CONDITION)).toBeUndefined();
  });

  it('nothing to start (no new revision): no hold and no condition', () => {
    const r = decided(tick({ phase: 'Succeeded', target: OLD, window: closed }));
    expect(condition(r.status, WINDOW_CONDITION)).toBeUndefined();
  });

  it('manual requests act regardless of the window (resume leaves Waiting, abort rolls back)', () => {
    const resumed = decided(tick({ phase: 'Waiting', window: closed, manual: { resume: 'true' } }));
    expect(resumed.status.phase).toBe('Progressing');
    const aborted = decided(
      tick({ phase: 'Progressing', weight: 20, window: closed, manual: { abort: 'true' } }),
    );
    expect(aborted.status.phase).toBe('Failed');
  });
});
