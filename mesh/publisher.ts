// The mesh's rebuild loop: inputs → buildModel → translate per client kind → snapshots → cache.publish,
// debounced (quiet/max) with an immediate path for route-weight changes; remembers which publish first
// served each VirtualService generation so callers can wait until the proxies have ACKed it.
import type { NodeGroup, SnapshotCache } from './cache.js';
import type { ConvergenceResult, ConvergenceTracker } from './convergence.js';
import type { KubeNetworkingObject } from './kube.js';
import type {
  EndpointIndex,
  LastGood,
  MeshInputs,
  ModelBase,
  NetworkingKind,
  ObjectProblems,
} from './model.js';
import { buildModel, lastGoodKey, SpecChecks } from './model.js';
import type { RouteTypes, Snapshot, TypeSnapshot } from './snapshot.js';
import {
  EncodeMemo,
  encodeClusterDefinitions,
  encodeLoadAssignments,
  encodeRoutes,
  envoyRoot,
  snapshotOf,
} from './snapshot.js';
import type { ClientKind } from './translate/index.js';
import {
  LoadAssignmentMemo,
  RouteMemo,
  translateClusterDefinitions,
  translateLoadAssignments,
  translateRoutes,
} from './translate/index.js';

export interface PublisherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DebounceOptions {
  /** Publish once no change arrived for this long (default 100 ms). */
  quietMs: number;
  /** …but never later than this after the first unpublished change (default 1 s). */
  maxMs: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { quietMs: 100, maxMs: 1000 };

/** Under a stream of immediate changes, the idle time after a build, in builds' durations. */
const BUILD_SPACING = 2;

export interface PublisherOptions {
  cache: SnapshotCache;
  tracker: ConvergenceTracker;
  inputs: () => MeshInputs;
  log: PublisherLogger;
  debounce?: DebounceOptions;
  clusterDomain?: string;
  /** Called after every build with the objects that have problems now (the status writer diffs). */
  onProblems?: (problems: readonly ObjectProblems[]) => void;
  /** Called after every publish attempt (metrics). */
  onPublish?: (result: { ok: boolean; durationMs: number; changed: readonly NodeGroup[] }) => void;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

export type RouteWaitResult =
  | ConvergenceResult
  | { ok: false; reason: 'rejected'; message: string; proxies: number; lagging: string[]; elapsedMs: number };

interface RouteWaiter {
  generation: number;
  wake: () => void;
}

export class MeshPublisher {
  private readonly opts: PublisherOptions;
  private readonly debounce: DebounceOptions;
  private readonly memo = new EncodeMemo();
  /** Per-Service route translations, valid while Services and DestinationRules stay. */
  private readonly routeMemo = new RouteMemo();
  /** Per-cluster load assignments, valid while their endpoints and subset labels stay. */
  private readonly loadAssignments = new LoadAssignmentMemo();
  /** Spec checks by object: informers replace an object when it changes, never edit it. */
  private readonly checks = new SpecChecks();
  private readonly now: () => number;
  private lastGood: LastGood = new Map();
  private started = false;
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private immediateQueued = false;
  /** When the oldest unpublished change arrived (this.now), undefined when none is pending. */
  private pendingSince: number | undefined;
  /** VirtualService key → the newest generation served and the publish seq that first served it. */
  private readonly served = new Map<string, { generation: number; seq: number }>();
  /** VirtualService key → the newest generation refused, with why. */
  private readonly rejected = new Map<string, { generation: number; message: string }>();
  private readonly routeWaiters = new Map<string, Set<RouteWaiter>>();
  private problemsNow: readonly ObjectProblems[] = [];
  private stopped = false;
  /** What the last build made, and from which input objects: the next build keeps what still holds. */
  private made: Made | undefined;
  /** When the last build ended and how long it took (this.now() ms), to pace immediate builds. */
  private lastBuildEndMs = Number.NEGATIVE_INFINITY;
  private lastBuildMs = 0;
  /** Builds that kept the previous clusters (no Service or DestinationRule changed), for tests and benchmarks. */
  clusterReuses = 0;
  /** Builds that kept the previous load assignments whole (the endpoints are equal too). */
  endpointReuses = 0;
  /** Builds that kept the previous listeners and routes whole (the VirtualServices are the same too). */
  listenerReuses = 0;

  /** Load assignments a build took from the previous one (tests, benchmarks). */
  get loadAssignmentReuses(): number {
    return this.loadAssignments.hits;
  }

  /** Service ports whose route translation a build took from the previous one (tests, benchmarks). */
  get routeReuses(): number {
    return this.routeMemo.hits;
  }

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    this.debounce = opts.debounce ?? DEFAULT_DEBOUNCE;
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * The last good version served in place of an object that has problems (undefined when none is): the
   * status writer records it in the object's status, so a restarted control plane serves the same thing.
   */
  lastGoodOf(kind: NetworkingKind, namespace: string, name: string): KubeNetworkingObject | undefined {
    return this.lastGood.get(`${kind}/${namespace}/${name}`);
  }

  /** Call once every input has been fully listed: builds and publishes at once (the first publish). */
  start(): void {
    this.started = true;
    this.lastGood = seedLastGood(this.opts.inputs());
    this.pendingSince ??= this.now();
    this.flush();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    for (const set of this.routeWaiters.values()) for (const w of set) w.wake();
  }

  get problems(): readonly ObjectProblems[] {
    return this.problemsNow;
  }

  /** An input changed. `immediate` (a weight-only route change) publishes on the next turn of the loop. */
  changed(immediate: boolean): void {
    if (this.stopped) return;
    this.pendingSince ??= this.now();
    if (!this.started) return;
    if (immediate) {
      if (this.immediateQueued) return;
      this.immediateQueued = true;
      // At once when idle; under a stream of changes, a build starts no sooner than two builds' time after
      // the last ended, so building never takes more than a third of the process (changes meanwhile join it):
      // the rest is the operator's, whose analysis makes the changes.
      const wait = Math.max(0, this.lastBuildEndMs + BUILD_SPACING * this.lastBuildMs - this.now());
      const run = (): void => {
        this.immediateQueued = false;
        this.flush();
      };
      if (wait < 1) setImmediate(run);
      else setTimeout(run, wait);
      return;
    }
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.debounce.quietMs);
    this.maxTimer ??= setTimeout(() => this.flush(), this.debounce.maxMs);
  }

  /**
   * Resolves once VirtualService namespace/name at `generation` (or later) is served and ACKed by every
   * connected proxy; with `rejected` when that generation has problems (the last good one keeps serving);
   * with `timeout`/`aborted` and the lagging proxies otherwise. Never rejects.
   */
  async waitForRoute(
    namespace: string,
    name: string,
    generation: number,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<RouteWaitResult> {
    const startedMs = this.now();
    const key = `${namespace}/${name}`;
    const deadline = startedMs + opts.timeoutMs;
    for (;;) {
      const served = this.served.get(key);
      if (served && served.generation >= generation) {
        const left = Math.max(0, deadline - this.now());
        const r = await this.opts.tracker.waitFor(served.seq, {
          timeoutMs: left,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        return { ...r, elapsedMs: this.now() - startedMs };
      }
      const rejected = this.rejected.get(key);
      const fail = (reason: 'timeout' | 'aborted'): RouteWaitResult => ({
        ok: false,
        reason,
        proxies: this.opts.tracker.proxies,
        lagging: [],
        elapsedMs: this.now() - startedMs,
      });
      if (rejected && rejected.generation >= generation)
        return {
          ok: false,
          reason: 'rejected',
          message: rejected.message,
          proxies: this.opts.tracker.proxies,
          lagging: [],
          elapsedMs: this.now() - startedMs,
        };
      if (opts.signal?.aborted) return fail('aborted');
      if (this.stopped || this.now() >= deadline) return fail('timeout');
      await this.nextBuildOf(key, generation, deadline - this.now(), opts.signal);
    }
  }

  /** Waits until a build sees the key (any outcome), the time is up or the signal aborts. */
  private nextBuildOf(key: string, generation: number, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.routeWaiters.get(key);
      if (!set) this.routeWaiters.set(key, (set = new Set()));
      const waiters = set;
      const waiter: RouteWaiter = {
        generation,
        wake: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.wake);
          waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, ms));
      signal?.addEventListener('abort', waiter.wake, { once: true });
      waiters.add(waiter);
    });
  }

  /** Builds and publishes now (clearing any debounce timers). */
  flush(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = undefined;
    this.maxTimer = undefined;
    if (this.stopped || !this.started) return;
    const changeStartedMs = this.pendingSince ?? this.now();
    this.pendingSince = undefined;
    const t0 = this.now();
    const inputs = this.opts.inputs();
    // The model's base, the clusters and the validity of the route memo read only Services and
    // DestinationRules; load assignments read those and EndpointSlices, Pods and Nodes. When none of an
    // input's objects changed (informers replace an object when it changes), what was made from it stays:
    // an endpoint change, the most frequent, re-translates load assignments only.
    const baseInputs = structureInputs(inputs);
    const endpointInputs = endpointInputLists(inputs);
    const routeInputs: InputLists = [[...inputs.virtualServices]];
    const previous = this.made;
    const kept = previous && sameLists(previous.inputs, baseInputs) ? previous : undefined;
    const endpointsCurrent = kept !== undefined && sameLists(kept.endpointInputs, endpointInputs);
    let built;
    try {
      built = buildModel(inputs, {
        lastGood: this.lastGood,
        checks: this.checks,
        ...(kept ? { base: kept.base } : {}),
        ...(previous ? { endpoints: previous.endpoints, endpointsCurrent } : {}),
        ...(this.opts.clusterDomain ? { clusterDomain: this.opts.clusterDomain } : {}),
      });
    } catch (err) {
      // A bug, not bad input (buildModel reports bad input as problems): keep serving the last snapshot.
      this.opts.log.error({ error: String(err) }, 'mesh model build failed; last config keeps serving');
      this.opts.onPublish?.({ ok: false, durationMs: this.now() - t0, changed: [] });
      return;
    }
    this.lastGood = built.lastGood;
    const root = envoyRoot();
    let sidecar: Snapshot;
    let proxyless: Snapshot;
    try {
      const model = built.model;
      let definitions: Record<ClientKind, ClusterDefinitionTypes>;
      if (kept) {
        this.clusterReuses++;
        definitions = kept.clusters;
      } else {
        this.routeMemo.clear();
        const define = (kind: ClientKind): ClusterDefinitionTypes => {
          const d = translateClusterDefinitions(model, kind);
          return { types: encodeClusterDefinitions(d.clusters, root, this.memo), notes: d.notes };
        };
        definitions = { sidecar: define('sidecar'), proxyless: define('proxyless') };
      }
      let loadAssignments: Record<ClientKind, TypeSnapshot>;
      // A build whose endpoints equal the previous ones gets the previous index itself (a Pod's status
      // changed, say, but not its labels).
      if (kept && model.endpoints === kept.endpoints) {
        this.endpointReuses++;
        loadAssignments = kept.loadAssignments;
      } else {
        const assign = (kind: ClientKind): TypeSnapshot =>
          encodeLoadAssignments(
            definitions[kind].types,
            translateLoadAssignments(model, kind, this.loadAssignments),
            root,
            this.memo,
          );
        loadAssignments = { sidecar: assign('sidecar'), proxyless: assign('proxyless') };
        this.loadAssignments.rotate();
      }
      let routes: Record<ClientKind, RouteTypes>;
      if (kept && sameLists(kept.routeInputs, routeInputs)) {
        this.listenerReuses++;
        routes = kept.routes;
      } else {
        const route = (kind: ClientKind): RouteTypes =>
          encodeRoutes(translateRoutes(model, kind, this.routeMemo), root, this.memo);
        routes = { sidecar: route('sidecar'), proxyless: route('proxyless') };
        this.routeMemo.rotate();
      }
      this.made = {
        inputs: baseInputs,
        base: built.base,
        clusters: definitions,
        endpointInputs,
        endpoints: model.endpoints,
        loadAssignments,
        routeInputs,
        routes,
      };
      const snapshot = (kind: ClientKind): Snapshot =>
        snapshotOf(
          {
            clusters: definitions[kind].types,
            endpoints: loadAssignments[kind],
            notes: definitions[kind].notes,
          },
          routes[kind],
        );
      sidecar = snapshot('sidecar');
      proxyless = snapshot('proxyless');
    } finally {
      this.memo.rotate();
    }
    // Gateways get the sidecar view until Gateway listeners are translated (SPEC §4.2).
    const result = this.opts.cache.publish({ sidecar, gateway: sidecar, proxyless });
    const durationMs = this.now() - t0;
    this.lastBuildEndMs = t0 + durationMs;
    this.lastBuildMs = durationMs;
    if (!result.ok) {
      this.opts.log.error({ error: result.message }, 'snapshot refused; last config keeps serving');
      this.opts.onPublish?.({ ok: false, durationMs, changed: [] });
    } else {
      this.opts.tracker.published(result.seq, result.changed, changeStartedMs);
      this.opts.onPublish?.({ ok: true, durationMs, changed: result.changed });
      for (const vs of built.model.virtualServices) {
        const key = `${vs.namespace}/${vs.name}`;
        const prev = this.served.get(key);
        if (!prev || prev.generation !== vs.generation)
          this.served.set(key, { generation: vs.generation, seq: result.seq });
      }
    }
    const present = new Set(built.model.virtualServices.map((v) => `${v.namespace}/${v.name}`));
    for (const p of built.problems) {
      if (p.kind !== 'VirtualService') continue;
      const key = `${p.namespace}/${p.name}`;
      present.add(key);
      this.rejected.set(key, {
        generation: p.generation,
        message: p.problems.map((x) => x.message).join('; '),
      });
    }
    for (const key of [...this.served.keys()]) if (!present.has(key)) this.served.delete(key);
    for (const key of [...this.rejected.keys()]) if (!present.has(key)) this.rejected.delete(key);
    this.problemsNow = built.problems;
    this.opts.onProblems?.(built.problems);
    for (const set of this.routeWaiters.values()) for (const w of [...set]) w.wake();
  }
}

interface ClusterDefinitionTypes {
  types: TypeSnapshot;
  notes: readonly string[];
}

/**
 * What a build made from Services and DestinationRules (the model's base, encoded clusters per client kind),
 * from those and EndpointSlices, Pods and Nodes (endpoints, encoded load assignments) and from all of them
 * and VirtualServices (encoded listeners and routes), with the input objects of each.
 */
interface Made {
  inputs: InputLists;
  base: ModelBase;
  clusters: Record<ClientKind, ClusterDefinitionTypes>;
  endpointInputs: InputLists;
  endpoints: EndpointIndex;
  loadAssignments: Record<ClientKind, TypeSnapshot>;
  routeInputs: InputLists;
  routes: Record<ClientKind, RouteTypes>;
}

/** Copies of input lists (a caller may change its arrays in place), holding the same objects. */
type InputLists = readonly (readonly unknown[])[];

/** What the model's base and the clusters are made from: Services and DestinationRules. */
const structureInputs = (inputs: MeshInputs): InputLists => [
  [...inputs.services],
  [...inputs.destinationRules],
];

/** What endpoints are made from, besides Services. */
const endpointInputLists = (inputs: MeshInputs): InputLists => [
  [...inputs.endpointSlices],
  [...inputs.pods],
  [...(inputs.nodes ?? [])],
];

/** Same objects (by identity) in the same order: an informer replaces an object when it changes. */
function sameLists(a: InputLists, b: InputLists): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? [];
    const y = b[i] ?? [];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/** The `status.lastGood` {generation, spec} a previous control plane recorded on objects it refused. */
interface RecordedLastGood {
  generation: number;
  spec: unknown;
}

function recorded(obj: KubeNetworkingObject): RecordedLastGood | undefined {
  const status = (obj as { status?: { lastGood?: unknown } }).status;
  const lg = status?.lastGood;
  if (typeof lg !== 'object' || lg === null) return undefined;
  const { generation, spec } = lg as { generation?: unknown; spec?: unknown };
  return typeof generation === 'number' && spec !== undefined ? { generation, spec } : undefined;
}

/**
 * After a restart the last good versions are not in memory: take them from the objects' status, where the
 * status writer recorded them, so a refused object keeps being served as it was before the restart.
 */
export function seedLastGood(inputs: MeshInputs): LastGood {
  const out = new Map<string, KubeNetworkingObject>();
  const seed = (kind: NetworkingKind, objs: readonly KubeNetworkingObject[]): void => {
    for (const o of objs) {
      const r = recorded(o);
      if (!r || !o.metadata) continue;
      out.set(lastGoodKey(kind, o), {
        ...o,
        metadata: { ...o.metadata, generation: r.generation },
        spec: r.spec,
      });
    }
  };
  seed('VirtualService', inputs.virtualServices);
  seed('DestinationRule', inputs.destinationRules);
  return out;
}
