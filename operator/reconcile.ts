// reconcile(key): one tick of one Canary — read it, validate it, gather observations, call step() (via
// settleStep), write the new status once (guarded by resourceVersion), then run the actions in order.
import type { KubeConfig } from '@kubernetes/client-node';
import { parseGoDuration } from '../analysis/duration.js';
import type { Verdict } from '../analysis/types.js';
import type { Canary, CanaryCondition, CanaryPhase, CanaryStatus } from '../crds/schema/flagger.js';
import type { GatherDeps } from './gather.js';
import { runMetrics, runWebhooks } from './gather.js';
import { kubeRequest } from './k8s/raw.js';
import type { Router, RouterResult } from './router.js';
import type { Action, Observations } from './scheduler/index.js';
import { settleStep } from './scheduler/index.js';
import { readManualRequests } from './scheduler/manual.js';
import { windowState } from './scheduler/windows.js';
import type { CanaryLookups, Problem } from './validate.js';
import { formatProblem, parseCanary, validateCanary } from './validate.js';
import type { Workload } from './workload.js';

export interface ReconcileLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: object): ReconcileLogger;
}

/** Where Kubernetes Events on a Canary go; never throws. */
export interface CanaryEvents {
  record(canary: Canary, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** The operator metrics reconcile feeds (SPEC §6). */
export interface CanaryMetricsSink {
  status(canary: Canary, phase: CanaryPhase): void;
  weight(canary: Canary, primary: number, canaryWeight: number): void;
  tick(canary: Canary, seconds: number): void;
  verdict(canary: Canary, verdict: Verdict): void;
}

/** Sends a message to the Canary's alerts (background, never blocks); never throws. */
export type CanaryNotify = (canary: Canary, severity: 'info' | 'warn' | 'error', message: string) => void;

/** Waits until the proxies serve a VirtualService generation (the embedded mesh); absent for other routers. */
export type RouteConvergence = (
  namespace: string,
  name: string,
  generation: number,
  opts: { timeoutMs: number; signal?: AbortSignal },
) => Promise<{ ok: boolean; reason?: string; proxies: number; elapsedMs: number; message?: string }>;

export interface ReconcileDeps {
  kc: KubeConfig;
  log: ReconcileLogger;
  /** The stored Canary (raw JSON as the API server sent it), from the informer. */
  canary(namespace: string, name: string): unknown;
  lookups: CanaryLookups;
  /** The workload layer for every targetRef.kind (workloadByKind). */
  workload: Workload;
  router(canary: Canary): RouterResult<Router>;
  gather: GatherDeps;
  events: CanaryEvents;
  metrics: CanaryMetricsSink;
  notify: CanaryNotify;
  convergence?: RouteConvergence;
  now(): number;
  /** Per API call (default 10 s). */
  timeoutMs?: number;
}

export type ReconcileReason = 'tick' | 'event';

/** Condition type saying whether the Canary's spec can be acted on (fledge's; Flagger has only Promoted). */
export const VALIDATED = 'Validated';

/** Phases whose ticks advance the analysis: they run only at the analysis interval, never on other events. */
const ANALYSING: readonly CanaryPhase[] = ['Progressing', 'WaitingPromotion'];

const plainJson = (v: unknown): string => JSON.stringify(v ?? null);

/** Status with the Validated condition set; the rest untouched. */
function withValidated(status: CanaryStatus, problems: readonly Problem[], nowIso: string): CanaryStatus {
  const previous = status.conditions?.find((c) => c.type === VALIDATED);
  const ok = problems.length === 0;
  const condition: CanaryCondition = {
    type: VALIDATED,
    status: ok ? 'True' : 'False',
    reason: ok ? 'Valid' : 'InvalidSpec',
    message: ok
      ? 'The spec and the objects it references are usable.'
      : problems.map(formatProblem).join('; '),
    lastTransitionTime:
      previous && previous.status === (ok ? 'True' : 'False')
        ? (previous.lastTransitionTime ?? nowIso)
        : nowIso,
    lastUpdateTime: nowIso,
  };
  if (previous && previous.status === condition.status && previous.message === condition.message)
    condition.lastUpdateTime = previous.lastUpdateTime ?? nowIso;
  return {
    ...status,
    conditions: [...(status.conditions ?? []).filter((c) => c.type !== VALIDATED), condition],
  };
}

export class Reconciler {
  constructor(private readonly deps: ReconcileDeps) {}

  async reconcile(
    namespace: string,
    name: string,
    reason: ReconcileReason,
    signal: AbortSignal,
  ): Promise<void> {
    const started = this.deps.now();
    const raw = this.deps.canary(namespace, name);
    if (raw === undefined) return;
    const log = this.deps.log.child({ canary: name, namespace });
    const rawMeta = (raw as { metadata?: { resourceVersion?: string; generation?: number } }).metadata;
    const parsed = parseCanary(raw);
    if (!parsed.ok) {
      // Without a parsed spec only the raw object can carry the condition.
      await this.reportInvalid(raw, parsed.problems, log);
      return;
    }
    const canary = parsed.value;
    const status: CanaryStatus = canary.status ?? {};
    const problems = validateCanary(canary, this.deps.lookups);
    const router = this.deps.router(canary);
    if (!router.ok) problems.push({ field: router.field, message: router.message });
    if (problems.length > 0 || !router.ok) {
      await this.reportInvalid(raw, problems, log, canary);
      return;
    }
    const phase = status.phase ?? '';
    // Manual requests (SPEC §3.6) act on the next reconcile, whatever triggered it.
    const manual = readManualRequests(canary.metadata.annotations);
    if (reason === 'event' && ANALYSING.includes(phase) && Object.keys(manual).length === 0) return;

    const observed = await this.deps.workload.observe(canary);
    if (observed.problems.length > 0 && observed.canary === null) {
      // The target is missing or unreadable: nothing is created (or changed) until it is there.
      await this.reportInvalid(raw, observed.problems, log, canary);
      return;
    }
    const routes = await router.value.getWeights(canary);
    const observations: Observations = {
      generation: rawMeta?.generation ?? 0,
      primary: observed.primary,
      canary: observed.canary,
      routes: routes.ok ? routes.value : null,
      targetRevision: observed.targetRevision,
      ...(observed.trackedConfigs ? { trackedConfigs: observed.trackedConfigs } : {}),
      manual,
    };
    const nowMs = this.deps.now();
    if (canary.spec.analysis.windows.length > 0)
      observations.window = windowState(canary.spec.analysis.windows, nowMs);
    const baseStatus = withValidated(status, [], new Date(nowMs).toISOString());
    const settled = await settleStep(
      { spec: canary.spec, status: baseStatus, observations, nowMs },
      {
        runWebhooks: (type) => runWebhooks(canary, type, phase || 'Initializing', signal),
        runMetrics: () => runMetrics(canary, this.deps.gather, signal),
      },
    );
    const next = settled.status;
    if (plainJson(next) !== plainJson(status)) {
      const written = await this.writeStatus(canary, rawMeta?.resourceVersion, next);
      if (!written.ok) {
        // Conflict or API failure: nothing of this tick happened; the queue retries with back-off.
        throw new Error(`status write of ${namespace}/${name} failed: ${written.message}`);
      }
    }
    const withStatus: Canary = { ...canary, status: next };
    await this.runActions(withStatus, router.value, settled.actions, log, signal);
    const m = this.deps.metrics;
    m.status(withStatus, next.phase ?? '');
    m.weight(withStatus, 100 - (next.canaryWeight ?? 0), next.canaryWeight ?? 0);
    m.tick(withStatus, (this.deps.now() - started) / 1000);
    if (next.phase !== status.phase)
      log.info({ phase: next.phase, from: status.phase ?? '', weight: next.canaryWeight }, 'phase changed');
  }

  /** A condition and a Warning event naming every problem field; nothing else is touched. */
  private async reportInvalid(
    raw: unknown,
    problems: readonly Problem[],
    log: ReconcileLogger,
    canary?: Canary,
  ): Promise<void> {
    const message = problems.map(formatProblem).join('; ');
    log.warn({ problems: problems.map(formatProblem) }, 'canary spec cannot be acted on');
    const obj = raw as {
      metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
    };
    const status: CanaryStatus = (raw as { status?: CanaryStatus }).status ?? {};
    const next = withValidated(status, problems, new Date(this.deps.now()).toISOString());
    const target: Canary =
      canary ??
      ({
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        metadata: {
          ...obj.metadata,
          name: obj.metadata?.name ?? '',
          namespace: obj.metadata?.namespace ?? '',
        },
        spec: {} as Canary['spec'],
      } satisfies Canary);
    if (plainJson(next.conditions) !== plainJson(status.conditions)) {
      this.deps.events.record(target, 'Warning', 'InvalidSpec', message);
      const written = await this.writeStatus(target, obj.metadata?.resourceVersion, next);
      if (!written.ok) log.warn({ error: written.message }, 'could not write the Validated condition');
    }
  }

  /** PUT …/status with the resourceVersion read: a concurrent change is a 409, never overwritten. */
  private async writeStatus(
    canary: Canary,
    resourceVersion: string | undefined,
    status: CanaryStatus,
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const ns = canary.metadata.namespace ?? '';
    const name = canary.metadata.name ?? '';
    const res = await kubeRequest(this.deps.kc, {
      method: 'PATCH',
      path: `/apis/flagger.app/v1beta1/namespaces/${ns}/canaries/${name}/status`,
      contentType: 'application/merge-patch+json',
      // A merge patch carrying metadata.resourceVersion is refused with 409 when the object changed since.
      body: { metadata: { resourceVersion }, status: nullsForRemoved(canary.status ?? {}, status) },
      timeoutMs: this.deps.timeoutMs ?? 10_000,
    }).catch((err: unknown) => ({ status: 0, body: String(err) }));
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const body = res.body as { message?: string } | string;
    return {
      ok: false,
      message: `HTTP ${res.status}: ${typeof body === 'string' ? body : (body.message ?? '')}`,
    };
  }

  private async runActions(
    canary: Canary,
    router: Router,
    actions: readonly Action[],
    log: ReconcileLogger,
    signal: AbortSignal,
  ): Promise<void> {
    const { workload, events } = this.deps;
    const failed = (what: string, p: { field: string; message: string }): void => {
      log.warn({ action: what, field: p.field, error: p.message }, 'action failed');
      events.record(canary, 'Warning', 'ActionFailed', `${what}: ${p.field}: ${p.message}`);
    };
    for (const a of actions) {
      if (signal.aborted) return;
      switch (a.type) {
        case 'bootstrap': {
          const w = await workload.bootstrap(canary);
          if (!w.ok) {
            failed('bootstrap', w);
            break;
          }
          if (w.value.created.length > 0) log.info({ created: w.value.created }, 'bootstrap created objects');
          const r = await router.reconcile(canary);
          if (!r.ok) failed('routes', r);
          break;
        }
        case 'setWeights': {
          const { type: _type, ...routes } = a;
          const r = await router.setRoutes(canary, routes);
          if (!r.ok) {
            failed('setWeights', r);
            break;
          }
          await this.awaitConvergence(canary, r.value.generation, log, signal);
          break;
        }
        case 'promote': {
          const r = await workload.promote(canary, a.revision);
          if (!r.ok) failed('promote', r);
          break;
        }
        case 'scaleTargetUp': {
          const r = await workload.scaleTargetUp(canary);
          if (!r.ok) failed('scaleTargetUp', r);
          break;
        }
        case 'scaleTargetToZero': {
          const r = await workload.scaleTargetToZero(canary);
          if (!r.ok) failed('scaleTargetToZero', r);
          break;
        }
        case 'event':
          events.record(canary, a.eventType, a.reason, a.message);
          if (a.eventType === 'Warning') log.warn({ reason: a.reason }, a.message);
          else log.info({ reason: a.reason }, a.message);
          if (canary.spec.analysis.webhooks.some((w) => w.type === 'event'))
            void runWebhooks(canary, 'event', canary.status?.phase ?? '', signal, {
              message: a.message,
              type: a.eventType,
              timestampMs: this.deps.now(),
            });
          break;
        case 'notify':
          this.deps.notify(canary, a.severity, a.message);
          break;
        case 'callWebhooks':
          // Fire and forget: post-rollout hooks never gate and never delay the next tick.
          void runWebhooks(canary, a.webhookType, canary.status?.phase ?? '', signal).then((out) => {
            for (const o of out)
              if (o.result.outcome !== 'passed')
                events.record(
                  canary,
                  'Warning',
                  'WebhookFailed',
                  `${a.webhookType} webhook ${o.name}: ${o.result.outcome}`,
                );
          });
          break;
        case 'recordMetric':
          this.deps.metrics.verdict(canary, a.verdict);
          break;
        case 'consumeAnnotations': {
          const r = await this.removeAnnotations(canary, a.annotations);
          if (!r.ok) failed('consumeAnnotations', { field: 'metadata.annotations', message: r.message });
          break;
        }
      }
    }
  }

  /**
   * Removes consumed manual annotations from the Canary with one JSON patch that first tests each value, so a
   * value changed since the tick read it is not lost: the patch is refused (422) and the next tick sees it.
   */
  private async removeAnnotations(
    canary: Canary,
    annotations: Record<string, string>,
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const ops = Object.entries(annotations).flatMap(([name, value]) => {
      const path = `/metadata/annotations/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      return [
        { op: 'test', path, value },
        { op: 'remove', path },
      ];
    });
    const res = await kubeRequest(this.deps.kc, {
      method: 'PATCH',
      path: `/apis/flagger.app/v1beta1/namespaces/${canary.metadata.namespace ?? ''}/canaries/${canary.metadata.name ?? ''}`,
      contentType: 'application/json-patch+json',
      body: ops,
      timeoutMs: this.deps.timeoutMs ?? 10_000,
    }).catch((err: unknown) => ({ status: 0, body: String(err) }));
    // 422: a value changed (or was removed) meanwhile; what is there now is for the next tick.
    if ((res.status >= 200 && res.status < 300) || res.status === 422) return { ok: true };
    const body = res.body as { message?: string } | string | undefined;
    const text = typeof body === 'string' ? body : (body?.message ?? '');
    return { ok: false, message: `HTTP ${res.status}: ${text}` };
  }

  /**
   * After a weight change on the embedded mesh: wait (bounded by the analysis interval) until every proxy
   * serves it, so the next check measures the new split; a proxy that does not ACK is reported, not waited on.
   */
  private async awaitConvergence(
    canary: Canary,
    generation: number,
    log: ReconcileLogger,
    signal: AbortSignal,
  ): Promise<void> {
    const wait = this.deps.convergence;
    if (!wait || canary.spec.provider !== 'fledge') return;
    const timeoutMs = Math.min(30_000, intervalMs(canary));
    const r = await wait(canary.metadata.namespace ?? '', canary.spec.service.name, generation, {
      timeoutMs,
      signal,
    });
    if (r.ok) log.info({ generation, proxies: r.proxies, ms: Math.round(r.elapsedMs) }, 'routes converged');
    else {
      const why = r.message ?? r.reason ?? 'not converged';
      log.warn({ generation, reason: r.reason, proxies: r.proxies }, 'routes did not converge');
      this.deps.events.record(
        canary,
        'Warning',
        'RoutesNotConverged',
        `VirtualService ${canary.spec.service.name} generation ${generation}: ${why}`,
      );
    }
  }
}

/** Interval of the analysis in ms (validated before; a parse failure falls back to 60 s). */
export function intervalMs(canary: Canary): number {
  const d = parseGoDuration(canary.spec.analysis.interval);
  return d.ok ? d.value : 60_000;
}

/** A merge patch of `next` over `prev`: keys of prev that next dropped become null (removed). */
function nullsForRemoved(prev: CanaryStatus, next: CanaryStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { ...next };
  for (const k of Object.keys(prev))
    if (!(k in next) || (next as Record<string, unknown>)[k] === undefined) out[k] = null;
  return out;
}
