// The embedded control plane, assembled: informers → publisher (model, translate, snapshots) → cache →
// ADS server, with convergence tracking, status/events for refused objects, metrics and debug handlers.
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { EventRecorder } from '../operator/k8s/events.js';
import type { Registry } from 'prom-client';
import { SnapshotCache } from './cache.js';
import { ConvergenceTracker } from './convergence.js';
import type { HttpHandler } from './debug.js';
import { meshDebugHandler } from './debug.js';
import { createMeshMetrics } from './metrics.js';
import type { NetworkingKind } from './model.js';
import type { DebounceOptions, PublisherLogger, RouteWaitResult } from './publisher.js';
import { MeshPublisher } from './publisher.js';
import { envoyRoot } from './snapshot.js';
import { MeshSources } from './sources.js';
import type { EventSink } from './status.js';
import { MeshStatusWriter } from './status.js';
import { AdsServer } from './xds/ads.js';
import { makeApiClient } from '../operator/k8s/agent.js';

export interface MeshOptions {
  kc: KubeConfig;
  log: PublisherLogger;
  registry: Registry;
  /** xDS (gRPC) listen address; port 0 picks a free one. */
  xdsHost?: string;
  xdsPort?: number;
  debounce?: DebounceOptions;
  clusterDomain?: string;
  /** Where Warning events for refused objects go (default: Events written through the API). */
  events?: EventSink;
}

/** Events on networking objects through the operator's recorder (aggregated, never throwing). */
function apiEvents(kc: KubeConfig, log: PublisherLogger): { sink: EventSink; flush: () => Promise<void> } {
  const recorder = new EventRecorder(makeApiClient(kc, CoreV1Api), log);
  return {
    sink: {
      warn: (o, reason, message) =>
        recorder.warn(
          {
            apiVersion: 'networking.istio.io/v1',
            kind: o.kind,
            namespace: o.namespace,
            name: o.name,
            ...(o.uid ? { uid: o.uid } : {}),
          },
          reason,
          message,
        ),
    },
    flush: () => recorder.flush(),
  };
}

export interface Mesh {
  /** The bound xDS port. */
  xdsPort: number;
  cache: SnapshotCache;
  ads: AdsServer;
  tracker: ConvergenceTracker;
  publisher: MeshPublisher;
  /** True once every input was listed and the first snapshot published. */
  ready(): boolean;
  /** Resolves when the first full sync has been published (or rejects when it is stopped first). */
  whenReady(): Promise<void>;
  /** See MeshPublisher.waitForRoute. */
  waitForRoute(
    namespace: string,
    name: string,
    generation: number,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<RouteWaitResult>;
  /** /debug/syncz and /debug/config_dump. */
  debugHandler: HttpHandler;
  stop(): Promise<void>;
}

export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  const metrics = createMeshMetrics(opts.registry);
  const cache = new SnapshotCache();
  const tracker = new ConvergenceTracker({ onConverged: (s) => metrics.converged(s) });
  const sources = new MeshSources(opts.kc, opts.log);
  const ownEvents = opts.events ? undefined : apiEvents(opts.kc, opts.log);
  let publisher: MeshPublisher | undefined = undefined;
  const status = new MeshStatusWriter(
    opts.kc,
    (kind: NetworkingKind, ns, name) => sources.get(kind, ns, name),
    (kind: NetworkingKind, ns, name) => publisher?.lastGoodOf(kind, ns, name),
    opts.log,
    opts.events ?? ownEvents?.sink,
  );
  publisher = new MeshPublisher({
    cache,
    tracker,
    inputs: () => sources.inputs(),
    log: opts.log,
    ...(opts.debounce ? { debounce: opts.debounce } : {}),
    ...(opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {}),
    onProblems: (p) => status.update(p),
    onPublish: (r) => metrics.published(r.ok, r.durationMs),
  });
  const pub = publisher;
  sources.onChange((c) => pub.changed(c.weightsOnly));
  const ads = new AdsServer({ cache, convergence: tracker, metrics: metrics.ads, log: opts.log });
  const xdsPort = await ads.listen(opts.xdsHost ?? '127.0.0.1', opts.xdsPort ?? 0);
  let stopped = false;
  const ready = sources.synced.then(() => {
    if (stopped) throw new Error('mesh stopped before its first sync');
    pub.start();
    opts.log.info({ xdsPort }, 'mesh synced: first snapshot published');
  });
  ready.catch(() => undefined);
  await sources.start();
  return {
    xdsPort,
    cache,
    ads,
    tracker,
    publisher: pub,
    ready: () => cache.synced,
    whenReady: () => ready,
    waitForRoute: (ns, name, generation, o) => pub.waitForRoute(ns, name, generation, o),
    debugHandler: meshDebugHandler(ads, envoyRoot),
    stop: async () => {
      stopped = true;
      pub.stop();
      await sources.stop();
      await ads.close();
      await ownEvents?.flush();
    },
  };
}
