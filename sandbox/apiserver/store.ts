// In-memory object storage of the sandbox API server: one global resourceVersion counter,
// a collection per group/resource, and a bounded event log per collection that watches replay.
import type { JsonObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** resourceVersion at which this event happened. */
  rv: number;
  object: JsonObject;
  /** The object before the change (MODIFIED/DELETED), for selector transitions. */
  previous?: JsonObject;
}

export type WatchListener = (event: StoreEvent) => void;

/**
 * One collection (group/resource). Objects are kept frozen-by-convention: the store never
 * hands out its own copies, callers get clones.
 */
class Collection {
  readonly objects = new Map<string, JsonObject>();
  /** The same objects by namespace ('' for cluster-scoped), so a namespaced list scans only its namespace. */
  readonly byNamespace = new Map<string, Map<string, JsonObject>>();
  /** Bumped on every change: a cached sorted list of an older version is stale. */
  version = 0;
  readonly sorted = new Map<string | undefined, { version: number; items: JsonObject[] }>();
  readonly log: StoreEvent[] = [];
  /** Events with rv > startRv are all in the log; a watch from an older rv is too old. */
  startRv: number;
  readonly listeners = new Set<WatchListener>();

  constructor(startRv: number) {
    this.startRv = startRv;
  }
}

export const objectKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name;

export interface StoreOptions {
  /** How many events each collection keeps for watch replay. */
  logLimit?: number;
}

export class Store {
  private rv: number;
  private readonly collections = new Map<string, Collection>();
  private readonly logLimit: number;

  constructor(opts: StoreOptions = {}) {
    // Start above 1 so that a watch from resourceVersion=1 is "too old", as on a long-running cluster.
    this.rv = 100;
    this.logLimit = opts.logLimit ?? 20_000;
  }

  currentRv(): number {
    return this.rv;
  }

  /** Creates the collection if needed; a new collection's watch history starts now. */
  collection(key: string): Collection {
    let c = this.collections.get(key);
    if (!c) {
      c = new Collection(this.rv);
      this.collections.set(key, c);
    }
    return c;
  }

  /** Drops a collection and all its objects (CRD deletion). Listeners see DELETED for each. */
  dropCollection(key: string): void {
    const c = this.collections.get(key);
    if (!c) return;
    for (const k of [...c.objects.keys()]) {
      const obj = c.objects.get(k);
      if (obj) this.remove(key, obj);
    }
    this.collections.delete(key);
  }

  get(key: string, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.collections.get(key)?.objects.get(objectKey(namespace, name));
  }

  /**
   * All objects of a collection (optionally one namespace), sorted by namespace/name. The sorted list is kept
   * until the collection changes (controllers list far more often than objects change); callers get a copy.
   */
  list(key: string, namespace?: string): JsonObject[] {
    const c = this.collections.get(key);
    if (!c) return [];
    const cached = c.sorted.get(namespace);
    if (cached?.version === c.version) return cached.items.slice();
    const source =
      namespace === undefined ? c.objects : (c.byNamespace.get(namespace) ?? new Map<string, JsonObject>());
    const out: [string, JsonObject][] = [...source];
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const items = out.map((e) => e[1]);
    c.sorted.set(namespace, { version: c.version, items });
    return items.slice();
  }

  count(key: string): number {
    return this.collections.get(key)?.objects.size ?? 0;
  }

  /** Takes the next resourceVersion. */
  private bump(): number {
    this.rv += 1;
    return this.rv;
  }

  /**
   * Stores `obj` (created or replaced) at a new resourceVersion, which is written into
   * obj.metadata.resourceVersion. The caller must not mutate obj afterwards.
   */
  put(key: string, obj: JsonObject): JsonObject {
    const c = this.collection(key);
    const meta = obj.metadata as JsonObject;
    const k = objectKey(meta.namespace as string | undefined, meta.name as string);
    const previous = c.objects.get(k);
    const rv = this.bump();
    meta.resourceVersion = String(rv);
    c.objects.set(k, obj);
    const ns = (meta.namespace as string | undefined) ?? '';
    let inNs = c.byNamespace.get(ns);
    if (!inNs) c.byNamespace.set(ns, (inNs = new Map<string, JsonObject>()));
    inNs.set(k, obj);
    c.version++;
    this.emit(
      c,
      previous ? { type: 'MODIFIED', rv, object: obj, previous } : { type: 'ADDED', rv, object: obj },
    );
    return obj;
  }

  /** Removes the object; the DELETED event carries it at a new resourceVersion. */
  remove(key: string, obj: JsonObject): JsonObject {
    const c = this.collection(key);
    const meta = obj.metadata as JsonObject;
    const k = objectKey(meta.namespace as string | undefined, meta.name as string);
    const previous = c.objects.get(k);
    if (!previous) return obj;
    c.objects.delete(k);
    c.byNamespace.get((meta.namespace as string | undefined) ?? '')?.delete(k);
    c.version++;
    const rv = this.bump();
    const gone: JsonObject = {
      ...previous,
      metadata: { ...(previous.metadata as JsonObject), resourceVersion: String(rv) },
    };
    this.emit(c, { type: 'DELETED', rv, object: gone, previous });
    return gone;
  }

  private emit(c: Collection, event: StoreEvent): void {
    c.log.push(event);
    // Trimmed in batches (down to the limit once it is a quarter over), not by one event per write.
    if (c.log.length > this.logLimit + Math.ceil(this.logLimit / 4)) {
      const dropped = c.log.splice(0, c.log.length - this.logLimit);
      const last = dropped[dropped.length - 1];
      if (last) c.startRv = last.rv;
    }
    for (const l of c.listeners) l(event);
  }

  /**
   * Events after `fromRv`, or 'too-old' when the log no longer holds them all.
   * The returned oldest value is what kube reports in "too old resource version: X (oldest)".
   */
  since(key: string, fromRv: number): StoreEvent[] | { tooOld: true; oldest: number } {
    const c = this.collection(key);
    if (fromRv < c.startRv) return { tooOld: true, oldest: c.startRv + 1 };
    const out: StoreEvent[] = [];
    // The log is sorted by rv: binary search for the first event after fromRv.
    let lo = 0;
    let hi = c.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((c.log[mid] as StoreEvent).rv <= fromRv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < c.log.length; i++) out.push(c.log[i] as StoreEvent);
    return out;
  }

  /** Forgets all watch history, as etcd compaction does: older resourceVersions become too old. */
  compact(): void {
    for (const c of this.collections.values()) {
      c.log.length = 0;
      c.startRv = this.rv;
    }
  }

  subscribe(key: string, listener: WatchListener): () => void {
    const c = this.collection(key);
    c.listeners.add(listener);
    return () => {
      c.listeners.delete(listener);
    };
  }
}
