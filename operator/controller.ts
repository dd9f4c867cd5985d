// The Canary controller: informers (Canaries, Deployments, DaemonSets, ConfigMaps, Secrets, MetricTemplates,
// AlertProviders) → a keyed work queue → Reconciler. One Ticker runs every canary's analysis tick at its
// interval; other events (a spec, target or tracked config change, a primary becoming ready) reconcile at once
// but never advance an analysis.
import type { KubeConfig, KubernetesObject, V1PodSpec } from '@kubernetes/client-node';
import type { AlertProvider, MetricTemplate } from '../crds/schema/flagger.js';
import type { ConfigKind } from './configs.js';
import { configKey, configRefs } from './configs.js';
import type { InformerLogger } from './k8s/informer.js';
import { Informer } from './k8s/informer.js';
import { WorkQueue } from './queue.js';
import type { ReconcileReason } from './reconcile.js';
import { intervalMs } from './reconcile.js';
import { readManualRequests } from './scheduler/manual.js';
import { Ticker } from './ticker.js';
import { parseCanary } from './validate.js';

export interface ControllerLogger extends InformerLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

type RawCanary = KubernetesObject & {
  spec?: { targetRef?: { kind?: string; name?: string }; analysis?: { interval?: string } };
};

/** Reconciles one Canary; rejecting means "retry with back-off". */
export type ReconcileFn = (
  namespace: string,
  name: string,
  reason: ReconcileReason,
  signal: AbortSignal,
) => Promise<void>;

export interface ControllerOptions {
  kc: KubeConfig;
  log: ControllerLogger;
  /** Canaries reconciled at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Called with each tick's lateness, for the drift metric. */
  onDrift?: (driftMs: number) => void;
}

/**
 * Reconciles run at once by default. A reconcile mostly waits (API server, metrics queries, proxies' ACKs), so
 * a few workers cap how many canaries are analysed on time: 4 served about 250 canaries at a 15 s interval.
 */
export const DEFAULT_CONCURRENCY = 32;

const key = (ns: string, name: string): string => `${ns}/${name}`;
const splitKey = (k: string): [string, string] => {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
};

export class CanaryController {
  readonly canaries: Informer<RawCanary>;
  readonly deployments: Informer<KubernetesObject>;
  readonly daemonSets: Informer<KubernetesObject>;
  /** ConfigMaps and Secrets, so a change of a tracked config (SPEC §3.1) reconciles its canaries. */
  readonly configMaps: Informer<KubernetesObject>;
  readonly secrets: Informer<KubernetesObject>;
  readonly metricTemplates: Informer<KubernetesObject>;
  readonly alertProviders: Informer<KubernetesObject>;
  private readonly queue: WorkQueue;
  private readonly ticker: Ticker;
  /** Key → a number bumped each time a tick becomes due, so a tick due during a run is not lost. */
  private readonly dueTicks = new Map<string, number>();
  private tickSeq = 0;
  /** The manual annotations (SPEC §3.6) last seen per key, so only a new request triggers a tick. */
  private readonly manualSeen = new Map<string, string>();
  private reconcile: ReconcileFn | undefined;
  private readonly log: ControllerLogger;

  constructor(private readonly opts: ControllerOptions) {
    const { kc, log } = opts;
    this.log = log;
    const informerOpts = { log };
    this.canaries = new Informer<RawCanary>(kc, { path: '/apis/flagger.app/v1beta1/canaries' }, informerOpts);
    this.deployments = new Informer(kc, { path: '/apis/apps/v1/deployments' }, informerOpts);
    this.daemonSets = new Informer(kc, { path: '/apis/apps/v1/daemonsets' }, informerOpts);
    this.configMaps = new Informer(kc, { path: '/api/v1/configmaps' }, informerOpts);
    this.secrets = new Informer(kc, { path: '/api/v1/secrets' }, informerOpts);
    this.metricTemplates = new Informer(
      kc,
      { path: '/apis/flagger.app/v1beta1/metrictemplates' },
      informerOpts,
    );
    this.alertProviders = new Informer(
      kc,
      { path: '/apis/flagger.app/v1beta1/alertproviders' },
      informerOpts,
    );
    this.queue = new WorkQueue({
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      backoff: { baseMs: 1000, maxMs: 60_000 },
      log,
      process: (k, signal) => this.process(k, signal),
    });
    this.ticker = new Ticker({
      onDue: (k) => {
        this.dueTicks.set(k, ++this.tickSeq);
        this.queue.add(k);
      },
      ...(opts.onDrift ? { onDrift: (ms: number) => opts.onDrift?.(ms) } : {}),
    });
    this.canaries.on((event, c) => this.onCanary(event, c));
    this.deployments.on((_event, d) => this.onDeployment(d));
    this.daemonSets.on((_event, d) => this.onDeployment(d));
    this.configMaps.on((_event, c) => this.onConfig('configmap', c));
    this.secrets.on((_event, c) => this.onConfig('secret', c));
    const all = (): void => {
      for (const c of this.canaries.list())
        this.queue.add(key(c.metadata?.namespace ?? '', c.metadata?.name ?? ''));
    };
    // A template or alert provider change may make an invalid canary valid (or the reverse).
    this.metricTemplates.on(all);
    this.alertProviders.on(all);
  }

  /** Lookups for validation, from the informer caches (no I/O). */
  metricTemplate(namespace: string, name: string): MetricTemplate | undefined {
    return this.metricTemplates.get(namespace, name) as MetricTemplate | undefined;
  }

  alertProvider(namespace: string, name: string): AlertProvider | undefined {
    return this.alertProviders.get(namespace, name) as AlertProvider | undefined;
  }

  canary(namespace: string, name: string): unknown {
    return this.canaries.get(namespace, name);
  }

  /** Starts the informers and, once all have listed, the queue and the ticks. */
  async start(reconcile: ReconcileFn): Promise<void> {
    this.reconcile = reconcile;
    const informers = this.informers();
    await Promise.all(informers.map((i) => i.start()));
    await Promise.all(informers.map((i) => i.synced));
    this.log.info({ canaries: this.canaries.list().length }, 'informers synced; reconciling');
    for (const c of this.canaries.list()) this.onCanary('add', c);
  }

  get synced(): boolean {
    return this.reconcile !== undefined && this.canaries.hasSynced && this.deployments.hasSynced;
  }

  async stop(): Promise<void> {
    this.ticker.stop();
    await this.queue.shutdown(10_000);
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private onCanary(event: 'add' | 'update' | 'delete', c: RawCanary): void {
    const k = key(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
    if (event === 'delete') {
      this.ticker.remove(k);
      this.dueTicks.delete(k);
      this.manualSeen.delete(k);
      return;
    }
    if (!this.reconcile) return;
    const parsed = parseCanary(c);
    const every = parsed.ok ? Math.max(1000, intervalMs(parsed.value)) : 60_000;
    if (!this.ticker.has(k)) this.ticker.schedule(k, every, Date.now() + every);
    else this.ticker.reschedule(k, every);
    // A manual request acts now, not at the next interval: its reconcile counts as a tick.
    const manual = JSON.stringify(readManualRequests(c.metadata?.annotations));
    if (manual !== '{}' && manual !== this.manualSeen.get(k)) this.dueTicks.set(k, ++this.tickSeq);
    this.manualSeen.set(k, manual);
    this.queue.add(k);
  }

  private informers(): Informer<KubernetesObject>[] {
    return [
      this.canaries,
      this.deployments,
      this.daemonSets,
      this.configMaps,
      this.secrets,
      this.metricTemplates,
      this.alertProviders,
    ];
  }

  /**
   * A ConfigMap or Secret changed: reconcile the canaries of its namespace whose target's pod template (from
   * the informer caches, no I/O) references it. The `-primary` copies are referenced by no target.
   */
  private onConfig(kind: ConfigKind, obj: KubernetesObject): void {
    if (!this.reconcile) return;
    const ns = obj.metadata?.namespace ?? '';
    const changed = configKey(kind, obj.metadata?.name ?? '');
    for (const c of this.canaries.list(ns)) {
      const ref = c.spec?.targetRef;
      const targets = ref?.kind === 'DaemonSet' ? this.daemonSets : this.deployments;
      const target = targets.get(ns, ref?.name ?? '') as
        { spec?: { template?: { spec?: V1PodSpec } } } | undefined;
      if (configRefs(target?.spec?.template?.spec).some((r) => configKey(r.kind, r.name) === changed))
        this.queue.add(key(ns, c.metadata?.name ?? ''));
    }
  }

  /** A target or primary Deployment (or DaemonSet) changed: reconcile the canaries that use it. */
  private onDeployment(d: KubernetesObject): void {
    if (!this.reconcile) return;
    const ns = d.metadata?.namespace ?? '';
    const name = d.metadata?.name ?? '';
    for (const c of this.canaries.list(ns)) {
      const target = c.spec?.targetRef?.name;
      if (target && (target === name || `${target}-primary` === name))
        this.queue.add(key(ns, c.metadata?.name ?? ''));
    }
  }

  private async process(k: string, signal: AbortSignal): Promise<void> {
    const reconcile = this.reconcile;
    if (!reconcile) return;
    const [ns, name] = splitKey(k);
    const due = this.dueTicks.get(k);
    const reason: ReconcileReason = due !== undefined ? 'tick' : 'event';
    await reconcile(ns, name, reason, signal);
    // A tick that became due while this one ran stays due: the queue runs the key again for it.
    if (due !== undefined && this.dueTicks.get(k) === due) this.dueTicks.delete(k);
  }
}
