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

export interface InformerOptions {
  log?: InformerLogger;
  backoff?: { baseMs: number; maxMs: number };
  /** Timeout of the list request. */
  listTimeoutMs?: number;
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
    opts: InformerOptions = {},
  ) {
    this.log = opts.log;
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    const listTimeoutMs = opts.listTimeoutMs ?? 30_000;
    const sel = resource.labelSelector ? `?labelSelector=${encodeURIComponent(resource.labelSelector)}` : '';
    // client-node's ListWatch opens its watch after a list even when it was stopped meanwhile; a watch opened
    // after stop() is aborted at once, so no request outlives stop() (it would keep the process alive).
    const watch = new (class extends Watch {
      constructor(private readonly isStopped: () => boolean) {
        super(kc);
      }
      override async watch(...args: Parameters<Watch['watch']>): Promise<AbortController> {
        const request = await super.watch(...args);
        if (this.isStopped()) request.abort();
        return request;
      }
    })(() => this.stopped);
    this.inner = new ListWatch<T>(
      resource.path,
      watch,
      () => getJson<KubernetesListObject<T>>(kc, `${resource.path}${sel}`, listTimeoutMs),
      false,
      resource.labelSelector,
    );
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
