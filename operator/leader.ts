// Leader election over a coordination.k8s.io/v1 Lease (SPEC §7), as client-go's leaderelection does it: one
// replica at a time holds the Lease and does the operator's writes; every replica keeps serving xDS.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import { kubeRequest } from './k8s/raw.js';

/** Time as the elector sees it; tests pass a fake one. `sleep` resolves early (never rejects) on abort. */
export interface ElectionClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: ElectionClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

export interface LeaderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LeaderElectionOptions {
  kc: KubeConfig;
  log: LeaderLogger;
  namespace: string;
  /** The Lease's name (default `fledge-operator`). */
  name?: string;
  /** Unique per replica (default `<hostname>_<uuid>`). */
  identity?: string;
  /** How long a Lease not renewed stays held (default 15). */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down (default 10 s, below the lease duration). */
  renewDeadlineMs?: number;
  /** Time between two attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  /** Deadline of each API call (default 5 s). */
  timeoutMs?: number;
  /**
   * Create the Lease's namespace when it does not exist. Only for an operator outside a cluster whose namespace
   * was not given (in a pod, the pod's own namespace always exists).
   */
  createNamespace?: boolean;
  clock?: ElectionClock;
  /** Leadership began; `term` is aborted when it ends. */
  onStartedLeading?: (term: AbortSignal) => void;
  onStoppedLeading?: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** One acquire-or-renew round as data: `leader` tells whether we hold the Lease now, `holder` who does. */
export type AttemptResult =
  | { ok: true; leader: boolean; holder: string }
  | { ok: false; reason: 'Conflict' | 'Failed'; message: string };

export const DEFAULT_LEASE_NAME = 'fledge-operator';
export const DEFAULT_LEASE_NAMESPACE = 'fledge-system';
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The namespace of the pod we run in (POD_NAMESPACE, then the service account's), or undefined outside one. */
export function podNamespace(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['POD_NAMESPACE']) return env['POD_NAMESPACE'];
  try {
    const ns = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
    return ns === '' ? undefined : ns;
  } catch {
    return undefined;
  }
}

export const defaultIdentity = (): string => `${hostname()}_${randomUUID()}`;

/** A Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the API server refuses any other). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** `fledge_leader`: 1 while this replica holds the Lease. */
export function leaderGauge(registry: Registry): (leading: boolean) => void {
  const g = new Gauge({
    name: 'fledge_leader',
    help: 'Whether this operator replica is the leader (1) and does the writes, or a standby (0)',
    registers: [registry],
  });
  g.set(0);
  return (leading) => g.set(leading ? 1 : 0);
}

/**
 * Runs the election loop: every retry period, acquire the Lease (when free or expired) or renew it (when ours).
 * Every write is a PUT guarded by the resourceVersion read, so two candidates never both win a round.
 * Expiry is judged as client-go does, on our own clock: a holder is gone when its Lease record has not changed
 * for leaseDurationSeconds since we first saw that record (no comparison of clocks across machines).
 */
export class LeaderElector {
  readonly identity: string;
  readonly name: string;
  readonly namespace: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly timeoutMs: number;
  private readonly clock: ElectionClock;
  private observedRecord = '';
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private term: AbortController | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private firstRoundDone: () => void = () => undefined;
  /** Resolves once the first acquire attempt has ended (won, lost or failed), or on stop. */
  readonly firstRound = new Promise<void>((resolve) => {
    this.firstRoundDone = resolve;
  });

  constructor(private readonly opts: LeaderElectionOptions) {
    this.identity = opts.identity ?? defaultIdentity();
    this.name = opts.name ?? DEFAULT_LEASE_NAME;
    this.namespace = opts.namespace;
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.clock = opts.clock ?? realClock;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000)
      throw new Error('leader election: renewDeadlineMs must be shorter than the lease duration');
  }

  get isLeader(): boolean {
    return this.term !== undefined;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`;
  }

  /** Starts the loop (once); the first round runs at once. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the loop; a leader releases the Lease (empty holder) so a standby takes over at its next round. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const r = await this.tryAcquireOrRenew();
      const now = this.clock.now();
      if (r.ok && r.leader) {
        this.lastRenewMs = now;
        if (!this.term) this.startLeading();
      } else if (this.term) {
        // Someone else holds it now, or we could not renew within the deadline: stop writing.
        const heldByOther = r.ok && r.holder !== this.identity;
        if (heldByOther || now - this.lastRenewMs >= this.renewDeadlineMs)
          this.stopLeading(r.ok ? `held by ${r.holder}` : r.message);
      }
      if (!r.ok && r.reason === 'Failed') this.opts.log.warn({ lease: this.name, error: r.message }, 'lease');
      this.firstRoundDone();
      await this.clock.sleep(this.retryPeriodMs, signal);
    }
    this.firstRoundDone();
    if (this.term) {
      const released = await this.release();
      this.stopLeading(released ? 'released' : 'stopped (release failed; the lease expires)');
    }
  }

  private startLeading(): void {
    this.term = new AbortController();
    this.opts.log.info({ lease: `${this.namespace}/${this.name}`, identity: this.identity }, 'became leader');
    this.opts.onStartedLeading?.(this.term.signal);
  }

  private stopLeading(why: string): void {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    term.abort();
    this.opts.log.info(
      { lease: `${this.namespace}/${this.name}`, identity: this.identity, why },
      'lost leadership',
    );
    this.opts.onStoppedLeading?.();
  }

  /** One round: read the Lease, then create, renew or take it over (or leave it to its live holder). */
  async tryAcquireOrRenew(): Promise<AttemptResult> {
    const now = this.clock.now();
    const got = await this.request('GET', `${this.path}/${this.name}`);
    if (!got.ok) return got;
    if (got.status === 404) return this.create(now);
    if (got.status !== 200) return failed('reading', got);
    const lease = got.body as Lease;
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.renewTime, spec.leaseTransitions, spec.leaseDurationSeconds]);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAtMs = now;
    }
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== this.identity && now < this.observedAtMs + durationMs)
      return { ok: true, leader: false, holder };
    const ours = holder === this.identity;
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: ours && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    const put = await this.request('PUT', `${this.path}/${this.name}`, next);
    if (!put.ok) return put;
    if (put.status === 409) return conflict(put);
    if (put.status !== 200) return failed('updating', put);
    this.observe(put.body as Lease, now);
    return { ok: true, leader: true, holder: this.identity };
  }

  private async create(now: number): Promise<AttemptResult> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    };
    let res = await this.request('POST', this.path, lease);
    if (res.ok && res.status === 404 && this.opts.createNamespace) {
      const ns = await this.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: this.namespace },
      });
      if (!ns.ok) return ns;
      if (ns.status !== 201 && ns.status !== 409) return failed(`creating namespace ${this.namespace}`, ns);
      if (ns.status === 201) this.opts.log.info({ namespace: this.namespace }, 'created the lease namespace');
      res = await this.request('POST', this.path, lease);
    }
    if (!res.ok) return res;
    // Created by another candidate since our read: it holds the Lease.
    if (res.status === 409) return conflict(res);
    if (res.status !== 201) return failed('creating', res);
    this.observe(res.body as Lease, now);
    return { ok: true, leader: true, holder: this.identity };
  }

  /** Gives the Lease up (empty holder, 1 s duration, as client-go) if we still hold it; true when done. */
  private async release(): Promise<boolean> {
    const got = await this.request('GET', `${this.path}/${this.name}`);
    if (!got.ok || got.status !== 200) return false;
    const lease = got.body as Lease;
    if (lease.spec?.holderIdentity !== this.identity) return true;
    const now = this.clock.now();
    const put = await this.request('PUT', `${this.path}/${this.name}`, {
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) },
    });
    return put.ok && put.status === 200;
  }

  private observe(lease: Lease, now: number): void {
    const s = lease.spec ?? {};
    this.observedRecord = JSON.stringify([
      s.holderIdentity ?? '',
      s.renewTime,
      s.leaseTransitions,
      s.leaseDurationSeconds,
    ]);
    this.observedAtMs = now;
  }

  private async request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<{ ok: true; status: number; body: unknown } | { ok: false; reason: 'Failed'; message: string }> {
    try {
      const res = await kubeRequest(this.opts.kc, {
        method,
        path,
        timeoutMs: this.timeoutMs,
        ...(body === undefined ? {} : { body }),
      });
      return { ok: true, status: res.status, body: res.body };
    } catch (err) {
      return { ok: false, reason: 'Failed', message: `${method} ${path}: ${String(err)}` };
    }
  }
}

const statusMessage = (body: unknown): string =>
  typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
    ? (body as { message: string }).message
    : JSON.stringify(body);

function conflict(res: { status: number; body: unknown }): AttemptResult {
  return { ok: false, reason: 'Conflict', message: `HTTP ${res.status}: ${statusMessage(res.body)}` };
}

function failed(what: string, res: { status: number; body: unknown }): AttemptResult {
  return {
    ok: false,
    reason: 'Failed',
    message: `${what} the lease: HTTP ${res.status}: ${statusMessage(res.body)}`,
  };
}

/** What OperatorConfig.leaderElection may set; the rest has the defaults above. */
export type LeaderElectionConfig = Partial<
  Pick<
    LeaderElectionOptions,
    'namespace' | 'name' | 'identity' | 'leaseDurationSeconds' | 'renewDeadlineMs' | 'retryPeriodMs'
  >
>;

/**
 * The options of an operator replica's elector: the namespace is the configured one, else the pod's, else
 * `fledge-system` (created when missing: an operator run outside a cluster, e.g. on the sandbox).
 */
export function electionOptions(
  cfg: LeaderElectionConfig,
  env: NodeJS.ProcessEnv = process.env,
): Pick<LeaderElectionOptions, 'namespace' | 'createNamespace'> & LeaderElectionConfig {
  const inPod = podNamespace(env);
  const namespace = cfg.namespace ?? inPod ?? DEFAULT_LEASE_NAMESPACE;
  return { ...cfg, namespace, createNamespace: cfg.namespace === undefined && inPod === undefined };
}
