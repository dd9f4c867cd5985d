// A wrapped client-node informer: plain JSON objects (as the API server sends them), a promise for the
// first full list, and re-list with exponential back-off whenever the watch fails (a raw informer stops).
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { ListWatch, Watch } from '@kubernetes/client-node';
import { getJson } from './raw.js';

export interface InformerLogger {
  warn(obj: object, msg: string): void;
}

export interface WatchedResource {
  /** Collection path across namespaces, e.g. `/api/v1/services` or `/apis/flagger.app/v1beta1/canaries`. */
  path: string;
  labelSelector?: string;
}

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  log?: InformerLogger;
  backoff?: { baseMs: number; maxMs: number };
  /** Timeout of the list request. */
  listTimeoutMs?: number;
  /**
   * What the cache keeps of each object the API server sends (listed or watched), default
   * `withoutManagedFields`. It must keep metadata's name, namespace, uid and resourceVersion.
   */
  transform?: (obj: T) => T;
}

/** The object without `metadata.managedFields`, which no controller reads and which is often half its size. */
export function withoutManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * Only the identity, labels and deletion mark of an object: for caches that read nothing else (the mesh's
 * Pods and Nodes), where a full Pod (spec, status) would be kilobytes each.
 */
export function identityAndLabels(obj: KubernetesObject): KubernetesObject {
  const m = obj.metadata ?? {};
  const metadata: NonNullable<KubernetesObject['metadata']> = {};
  if (m.name !== undefined) metadata.name = m.name;
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.labels !== undefined) metadata.labels = m.labels;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  return {
    ...(obj.apiVersion !== undefined ? { apiVersion: obj.apiVersion } : {}),
    ...(obj.kind !== undefined ? { kind: obj.kind } : {}),
    metadata,
  };
}

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, obj: T, old: T | undefined) => void;

/**
 * Keeps a local copy of one resource type. Contracts: `synced` resolves after the first complete list
 * (handlers have seen every object by then); a failed list or watch is retried with back-off and a
 * re-list, during which the copy stays as it was (never emptied); `stop()` ends all of it.
 */
export class Informer<T extends KubernetesObject> {
  readonly synced: Promise<void>;
  private readonly inner: ListWatch<T>;
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly log: InformerLogger | undefined;
  private readonly backoff: { baseMs: number; maxMs: number };
  private failures = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The start (list, then watch request) in flight, which stop() waits for. */
  private starting: Promise<void> | undefined;
  private markSynced: () => void = () => undefined;
  private isSynced = false;

  constructor(
    kc: KubeConfig,
    private readonly resource: WatchedResource,
    opts: InformerOptions<T> = {},
  ) {
    this.log = opts.log;
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    const listTimeoutMs = opts.listTimeoutMs ?? 30_000;
    const sel = resource.labelSelector ? `?labelSelector=${encodeURIComponent(resource.labelSelector)}` : '';
    const transform: (obj: T) => T = opts.transform ?? withoutManagedFields;
    // client-node's ListWatch opens its watch after a list even when it was stopped meanwhile; a watch opened
    // after stop() is aborted at once, so no request outlives stop() (it would keep the process alive).
    // Watched objects go through the transform (an ERROR event carries a Status, not an object).
    const watch = new (class extends Watch {
      constructor(private readonly isStopped: () => boolean) {
        super(kc);
      }
      override async watch(...args: Parameters<Watch['watch']>): Promise<AbortController> {
        const [path, query, callback, done] = args;
        const request = await super.watch(
          path,
          query,
          (phase, obj: T, watchObj?: unknown) =>
            callback(phase, phase === 'ERROR' ? obj : transform(obj), watchObj),
          done,
        );
        if (this.isStopped()) request.abort();
        return request;
      }
    })(() => this.stopped);
    const list = async (): Promise<KubernetesListObject<T>> => {
      const l = await getJson<KubernetesListObject<T>>(kc, `${resource.path}${sel}`, listTimeoutMs);
      return { ...l, items: l.items.map(transform) };
    };
    this.inner = new ListWatch<T>(resource.path, watch, list, false, resource.labelSelector);
    this.synced = new Promise((resolve) => {
      this.markSynced = resolve;
    });
    this.inner.on('add', (o) => this.emit('add', o, undefined));
    this.inner.on('update', (o) => this.emit('update', o, undefined));
    this.inner.on('delete', (o) => this.emit('delete', o, undefined));
    this.inner.on('connect', () => undefined);
    this.inner.on('error', (err: unknown) => this.onError(err));
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching; resolves when started (not necessarily synced: await `synced`). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tryStart();
  }

  /**
   * Ends listing and watching. A start in flight is waited for: client-node's informer opens its watch
   * after a list that was pending when it was stopped, and that open request would keep the process alive.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.inner.stop();
    await this.starting?.catch(() => undefined);
  }

  get(namespace: string, name: string): T | undefined {
    return this.inner.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.inner.list(namespace);
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  private emit(event: InformerEvent, obj: T, old: T | undefined): void {
    for (const h of this.handlers) h(event, obj, old);
  }

  private tryStart(): Promise<void> {
    const run = this.startOnce();
    this.starting = run;
    return run;
  }

  private async startOnce(): Promise<void> {
    const failuresBefore = this.failures;
    await this.inner.start();
    // start() resolves after the list and the watch request; an error in between was counted by onError.
    if (this.failures === failuresBefore && !this.stopped) {
      this.failures = 0;
      if (!this.isSynced) {
        this.isSynced = true;
        this.markSynced();
      }
    }
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const delayMs = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this.failures - 1, 16));
    this.log?.warn(
      {
        resource: this.resource.path,
        error: err instanceof Error ? err.message : String(err),
        retryInMs: delayMs,
      },
      'watch failed; re-listing after back-off',
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.tryStart().catch((e: unknown) => this.onError(e));
    }, delayMs);
  }
}
