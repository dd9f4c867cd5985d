// Kubernetes Events (core/v1) about an object, as kube's own recorder writes them: a repeat of the same event
// within the aggregation window bumps `count` and `lastTimestamp` of the existing Event instead of a new one.
import { hostname } from 'node:os';
import type {
  ConfigurationOptions,
  CoreV1Api,
  CoreV1Event,
  ObservableMiddleware,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';
import { ApiException, Observable } from '@kubernetes/client-node';

/** The object an Event is about. `apiVersion` and `uid` are optional in the Event API; give them when known. */
export interface InvolvedObject {
  apiVersion?: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventLogger {
  warn(obj: object, msg: string): void;
}

export interface EventRecorderOptions {
  /** Timeout of each API request. Default 10 s. */
  timeoutMs?: number;
  /** Distinct events remembered for aggregation (least recently used dropped first). Default 4096. */
  cacheSize?: number;
  /** A repeat this long after the previous occurrence starts a new Event. Default 10 min, as kube's. */
  aggregateWindowMs?: number;
  /** `reportingInstance` and `source.host`. Default: the host name. */
  instance?: string;
  now?: () => number;
}

export const EVENT_SOURCE_COMPONENT = 'fledge';
export const EVENT_REPORTING_CONTROLLER = 'fledge.dev/operator';

/** The InvolvedObject of a Canary (flagger.app/v1beta1). */
export function canaryRef(canary: {
  metadata?: { name?: string; namespace?: string; uid?: string };
}): InvolvedObject {
  const m = canary.metadata ?? {};
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    ...(m.uid ? { uid: m.uid } : {}),
  };
}

/** One distinct event (object, type, reason, message) and the API Event that carries it. */
interface Entry {
  obj: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  /** Set once the Event exists on the server. */
  eventName: string | undefined;
  count: number;
  firstMs: number;
  lastMs: number;
  /** Occurrences not yet written. */
  pending: boolean;
  writing: Promise<void> | undefined;
}

/**
 * Contracts: `record` (and `normal`, `warn`) never throw and never block the caller: writes run in the
 * background, failures (API errors, timeouts) go to the logger. Writes for one distinct event are sequential
 * and coalesced: repeats while a write is in flight become one later patch carrying the latest count.
 * `flush()` resolves when every write started so far has finished.
 */
export class EventRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly windowMs: number;
  private readonly instance: string;
  private readonly now: () => number;
  private seq = 0;

  constructor(
    private readonly api: CoreV1Api,
    private readonly log: EventLogger,
    opts: EventRecorderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.cacheSize = opts.cacheSize ?? 4096;
    this.windowMs = opts.aggregateWindowMs ?? 10 * 60_000;
    this.instance = opts.instance ?? hostname();
    this.now = opts.now ?? (() => Date.now());
  }

  normal(obj: InvolvedObject, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warn(obj: InvolvedObject, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  record(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    const nowMs = this.now();
    const key = JSON.stringify([
      obj.apiVersion,
      obj.kind,
      obj.namespace,
      obj.name,
      obj.uid,
      type,
      reason,
      message,
    ]);
    let e = this.entries.get(key);
    this.entries.delete(key); // re-inserted below: Map order is the LRU order
    if (e && nowMs - e.lastMs <= this.windowMs) {
      e.count++;
      e.lastMs = nowMs;
    } else {
      e = {
        obj,
        type,
        reason,
        message,
        eventName: undefined,
        count: 1,
        firstMs: nowMs,
        lastMs: nowMs,
        pending: false,
        writing: undefined,
      };
    }
    this.entries.set(key, e);
    if (this.entries.size > this.cacheSize) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    e.pending = true;
    if (!e.writing) this.startWriting(e);
  }

  /** Resolves when every write started so far has finished (each is bounded by the timeout). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private startWriting(e: Entry): void {
    const p = this.drain(e).finally(() => {
      e.writing = undefined;
      this.inFlight.delete(p);
    });
    e.writing = p;
    this.inFlight.add(p);
  }

  /** Writes until no occurrence is left unwritten; never rejects. */
  private async drain(e: Entry): Promise<void> {
    while (e.pending) {
      e.pending = false;
      // One deadline per write, covering a patch and the create that may follow it.
      const signal = AbortSignal.timeout(this.timeoutMs);
      try {
        if (e.eventName === undefined) await this.create(e, signal);
        else await this.patch(e, e.eventName, signal);
      } catch (err) {
        this.log.warn(
          {
            kind: e.obj.kind,
            namespace: e.obj.namespace,
            name: e.obj.name,
            reason: e.reason,
            error: signal.aborted
              ? `timed out after ${this.timeoutMs} ms`
              : err instanceof Error
                ? err.message
                : String(err),
          },
          'could not write a Kubernetes Event',
        );
        // The next occurrence retries from scratch rather than repeating a failing write in a loop.
        return;
      }
    }
  }

  private async create(e: Entry, signal: AbortSignal): Promise<void> {
    const name = this.eventName(e.obj.name, e.firstMs);
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: e.obj.namespace },
      involvedObject: {
        ...(e.obj.apiVersion ? { apiVersion: e.obj.apiVersion } : {}),
        kind: e.obj.kind,
        namespace: e.obj.namespace,
        name: e.obj.name,
        ...(e.obj.uid ? { uid: e.obj.uid } : {}),
      },
      type: e.type,
      reason: e.reason,
      message: e.message,
      source: { component: EVENT_SOURCE_COMPONENT, host: this.instance },
      reportingComponent: EVENT_REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      firstTimestamp: wholeSeconds(e.firstMs),
      lastTimestamp: wholeSeconds(e.lastMs),
      count: e.count,
    };
    await this.api.createNamespacedEvent({ namespace: e.obj.namespace, body }, requestOptions(signal, false));
    e.eventName = name;
  }

  private async patch(e: Entry, eventName: string, signal: AbortSignal): Promise<void> {
    const body = {
      count: e.count,
      lastTimestamp: wholeSeconds(e.lastMs).toISOString().replace('.000Z', 'Z'),
    };
    try {
      await this.api.patchNamespacedEvent(
        { namespace: e.obj.namespace, name: eventName, body },
        requestOptions(signal, true),
      );
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 404) throw err;
      // The Event expired (kube keeps them ~1 h) or was deleted: start a new one with this occurrence.
      e.eventName = undefined;
      e.count = 1;
      e.firstMs = e.lastMs;
      await this.create(e, signal);
    }
  }

  /** `<object>.<hex>` as kube's recorder names Events; unique within this recorder. */
  private eventName(objectName: string, atMs: number): string {
    const suffix = (BigInt(Math.floor(atMs)) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
  }
}

/** Event timestamps are whole seconds (metav1.Time). */
function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** Aborts the request on `signal` and, for patches, sends the merge-patch content type. */
function requestOptions(signal: AbortSignal, mergePatch: boolean): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(signal);
      if (mergePatch) ctx.setHeaderParam('Content-Type', 'application/merge-patch+json');
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
