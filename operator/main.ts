// Wiring only: builds the operator's dependencies from its config (embedded mesh, informers, reconciler,
// notifiers, metrics, events, HTTP endpoints) and starts them. `fledge operator` and the demo call this.
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsProvider } from '../analysis/types.js';
import type { Canary } from '../crds/schema/flagger.js';
import type { HttpServerHandle } from '../mesh/debug.js';
import { sendText, startHttpServer } from '../mesh/debug.js';
import type { Mesh } from '../mesh/mesh.js';
import { startMesh } from '../mesh/mesh.js';
import { CanaryController } from './controller.js';
import { canaryRef, EventRecorder } from './k8s/events.js';
import { getJson } from './k8s/raw.js';
import { createOperatorMetrics } from './metrics.js';
import { CanaryNotifier } from './notify.js';
import { Reconciler } from './reconcile.js';
import { createRouter } from './router.js';
import type { LeaderElectionConfig } from './leader.js';
import { electionOptions, LeaderElector, leaderGauge } from './leader.js';
import { DaemonSetWorkload } from './daemonset.js';
import { DeploymentWorkload, workloadByKind } from './workload.js';
import { makeApiClient } from './k8s/agent.js';

export interface OperatorConfig {
  kc: KubeConfig;
  log: Logger;
  /** Default Prometheus for built-in checks (SPEC §2.1: `http://prometheus:9090`). */
  metricsServer: string;
  /** Run the embedded mesh (xDS) in this process (default true). */
  mesh?: boolean;
  xdsHost?: string;
  xdsPort?: number;
  /** HTTP for /healthz, /readyz, /metrics and the mesh's /debug (port 0 = free port). */
  httpHost?: string;
  httpPort?: number;
  /** Canaries reconciled at once. */
  concurrency?: number;
  /** The mesh's push debounce. */
  debounce?: { quietMs: number; maxMs: number };
  /** Aborting it before the first sync stops what was started and makes startOperator reject. */
  signal?: AbortSignal;
  /**
   * Leader election over the Lease `fledge-operator` (SPEC §7), on by default: only the leader reconciles and
   * writes; every replica serves xDS and /readyz. `false` turns it off (this replica always writes).
   */
  leaderElection?: boolean | LeaderElectionConfig;
}

export interface Operator {
  mesh: Mesh | undefined;
  controller: CanaryController;
  http: HttpServerHandle;
  registry: Registry;
  /** Undefined when leader election is off. */
  elector: LeaderElector | undefined;
  /** Whether this replica does the reconciles and writes now. */
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** Reads a Secret's data, base64-decoded; undefined when it cannot be read. */
function secretReader(
  kc: KubeConfig,
): (ns: string, name: string) => Promise<Record<string, string> | undefined> {
  return async (ns, name) => {
    try {
      const s = await getJson<{ data?: Record<string, string> }>(
        kc,
        `/api/v1/namespaces/${ns}/secrets/${name}`,
        10_000,
      );
      return Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    } catch {
      return undefined;
    }
  };
}

export async function startOperator(cfg: OperatorConfig): Promise<Operator> {
  const { kc, log } = cfg;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fledge_process_' });
  const metrics = createOperatorMetrics(registry);
  const events = new EventRecorder(makeApiClient(kc, CoreV1Api), log);

  const mesh =
    cfg.mesh === false
      ? undefined
      : await startMesh({
          kc,
          log: log.child({ component: 'mesh' }),
          registry,
          ...(cfg.xdsHost ? { xdsHost: cfg.xdsHost } : {}),
          ...(cfg.xdsPort !== undefined ? { xdsPort: cfg.xdsPort } : {}),
          ...(cfg.debounce ? { debounce: cfg.debounce } : {}),
        });

  const controller = new CanaryController({
    kc,
    log: log.child({ component: 'controller' }),
    ...(cfg.concurrency ? { concurrency: cfg.concurrency } : {}),
    onDrift: (ms) => metrics.observeTickDrift(ms),
  });
  // fledge_canary_total{namespace} follows the informer's cache (a namespace whose last canary went shows 0);
  // a deleted canary's own series go with it.
  controller.canaries.on((event, c) => {
    const ns = c.metadata?.namespace ?? '';
    metrics.setTotal(ns, controller.canaries.list(ns).length);
    if (event === 'delete') metrics.forget(ns, c.metadata?.name ?? '');
  });
  const live = (c: Canary): boolean =>
    controller.canary(c.metadata.namespace ?? '', c.metadata.name ?? '') !== undefined;
  const secret = secretReader(kc);
  const notifier = new CanaryNotifier({
    alertProvider: (ns, name) => controller.alertProvider(ns, name),
    secret,
    log: log.child({ component: 'notify' }),
  });
  const workload = workloadByKind({
    Deployment: new DeploymentWorkload(kc, { deploymentCache: controller.deployments }),
    DaemonSet: new DaemonSetWorkload(kc),
  });
  const providerCache = new Map<string, MetricsProvider>();
  const reconciler = new Reconciler({
    kc,
    log,
    canary: (ns, name) => controller.canary(ns, name),
    lookups: {
      metricTemplate: (ns, name) => controller.metricTemplate(ns, name),
      alertProvider: (ns, name) => controller.alertProvider(ns, name),
    },
    workload,
    router: (c: Canary) => createRouter(c.spec.provider, kc),
    gather: {
      metricsServer: cfg.metricsServer,
      metricTemplate: (ns, name) => controller.metricTemplate(ns, name),
      secret,
      providerCache,
    },
    events: { record: (c, type, reason, message) => events.record(canaryRef(c), type, reason, message) },
    // A reconcile that was under way when its canary was deleted writes no series back after `forget`.
    metrics: {
      status: (c, phase) => {
        if (live(c)) metrics.setStatus(c.metadata.namespace, c.metadata.name, phase);
      },
      weight: (c, primary, canaryWeight) => {
        if (live(c))
          metrics.setWeight(
            c.metadata.namespace,
            c.metadata.name,
            c.spec.targetRef.name,
            canaryWeight,
            primary,
          );
      },
      tick: (c, seconds) => {
        if (live(c)) metrics.observeTick(c.metadata.namespace, c.metadata.name, seconds * 1000);
      },
      verdict: (c, v) => {
        if (v.value !== undefined && live(c))
          metrics.recordMetric(c.metadata.namespace, c.metadata.name, v.metric, v.value);
      },
    },
    notify: notifier.notify,
    ...(mesh ? { convergence: (ns, name, gen, o) => mesh.waitForRoute(ns, name, gen, o) } : {}),
    now: () => Date.now(),
  });

  const http = await startHttpServer(
    [
      (req, res, url) => {
        if (url.pathname === '/healthz') {
          sendText(res, 200, 'ok\n');
          return true;
        }
        if (url.pathname === '/readyz') {
          const ready = controller.synced && (mesh === undefined || mesh.ready());
          sendText(res, ready ? 200 : 503, ready ? 'ready\n' : 'not synced yet\n');
          return true;
        }
        if (url.pathname === '/metrics') {
          void registry.metrics().then((text) => sendText(res, 200, text, registry.contentType));
          return true;
        }
        return false;
      },
      ...(mesh ? [mesh.debugHandler] : []),
    ],
    cfg.httpHost ?? '127.0.0.1',
    cfg.httpPort ?? 0,
  );

  const ports = { httpPort: http.port, ...(mesh ? { xdsPort: mesh.xdsPort } : {}) };
  // Announced before the first sync, which waits for the CRDs to be served: /healthz answers meanwhile.
  log.info(ports, 'fledge operator listening');
  // Only the leader reconciles: a standby's ticks and events are dropped (the leader's status holds the run,
  // so a new leader resumes at each canary's next tick); a term's end aborts its reconciles.
  const le = cfg.leaderElection ?? true;
  const setLeader = leaderGauge(registry);
  let term: AbortSignal | undefined = le === false ? new AbortController().signal : undefined;
  setLeader(le === false);
  const elector =
    le === false
      ? undefined
      : new LeaderElector({
          kc,
          log: log.child({ component: 'leader' }),
          ...electionOptions(le === true ? {} : le),
          onStartedLeading: (t) => {
            term = t;
            setLeader(true);
          },
          onStoppedLeading: () => {
            term = undefined;
            setLeader(false);
          },
        });
  elector?.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    await controller.stop();
    await notifier.close();
    await events.flush();
    // Released only once this replica has stopped writing.
    await elector?.stop();
    await mesh?.stop();
    await http.close();
  };
  // After the first election round, so that a replica that wins it at once reconciles every canary right away.
  // Never started once stopped: a late first round would otherwise start informers nobody stops.
  const started = (elector?.firstRound ?? Promise.resolve()).then(() =>
    stopped
      ? undefined
      : controller.start(async (ns, name, reason, signal) => {
          if (term === undefined || term.aborted) return;
          await reconciler.reconcile(ns, name, reason, AbortSignal.any([signal, term]));
        }),
  );
  const aborted = await untilStartedOrAborted(started, cfg.signal);
  if (aborted) {
    await stop();
    throw new Error('fledge operator: stopped before the first sync');
  }
  log.info(ports, 'fledge operator started');
  return { mesh, controller, http, registry, elector, isLeader: () => term !== undefined, stop };
}

/** Waits for `started`; true when the signal fired first (the start itself is then left to be stopped). */
async function untilStartedOrAborted(
  started: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (!signal) {
    await started;
    return false;
  }
  if (signal.aborted) return true;
  let onAbort = (): void => undefined;
  const abort = new Promise<true>((resolve) => {
    onAbort = () => resolve(true);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([started.then(() => false), abort]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
