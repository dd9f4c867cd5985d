// Delta (incremental) ADS (AggregatedDiscoveryService/DeltaAggregatedResources) serving the SnapshotCache:
// per stream and type subscriptions, what the client holds by resource version, ACK/NACK, removals, syncz.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { SnapshotCache } from '../cache.js';
import type { EncodedResource, Snapshot, TypeUrl } from '../snapshot.js';
import { PUSH_ORDER } from '../snapshot.js';
import { TYPE_URLS } from '../translate/index.js';
import type { ConfigDump, IdentifiedStream, Obj, ProxySync, StreamOptions } from './stream.js';
import { isObj, StreamSet, strField, strings, WILDCARD_TYPES } from './stream.js';

/** What the server writes: each resource's Any bytes are the snapshot's, never re-encoded. */
export interface OutgoingDeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  resources: readonly EncodedResource[];
  removed_resources: readonly string[];
}

/**
 * DeltaDiscoveryResponse {system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
 * removed_resources = 6} with each Resource {version = 1, resource = 2 (Any), name = 3}, hand-encoded.
 */
export function encodeDeltaDiscoveryResponse(r: OutgoingDeltaResponse): Buffer {
  const w = protobuf.Writer.create();
  if (r.system_version_info) w.uint32(10).string(r.system_version_info);
  for (const res of r.resources) {
    w.uint32(18).fork();
    w.uint32(10).string(res.version).uint32(18).bytes(res.any).uint32(26).string(res.name);
    w.ldelim();
  }
  w.uint32(34).string(r.type_url);
  w.uint32(42).string(r.nonce);
  for (const name of r.removed_resources) w.uint32(50).string(name);
  return Buffer.from(w.finish());
}

export interface DeltaServerOptions extends StreamOptions {
  cache: SnapshotCache;
}

/** A resource the client holds: its version, and the resource once known (not yet for a reconnect's seed). */
interface Held {
  version: string;
  resource: EncodedResource | undefined;
}

interface PendingResponse {
  nonce: string;
  version: string;
  updates: readonly EncodedResource[];
  removed: readonly string[];
}

interface DeltaTypeState {
  /** Every resource of the type (LDS/CDS asked for with no names or with "*"), besides `names`. */
  wildcard: boolean;
  names: Set<string>;
  /** Name → what the client holds: what it ACKed, or declared in initial_resource_versions. */
  has: Map<string, Held>;
  /** Name → the version the client NACKed (null: a removal it NACKed); not sent to it again. */
  rejected: Map<string, string | null>;
  /** Names re-sent even at the version the client holds (a changed cluster's endpoints, …). */
  forced: Set<string>;
  /** The one unacknowledged response of this type, if any. */
  pending: PendingResponse | undefined;
  lastNonce: string | undefined;
  /** A wildcard subscription was answered once (its first response is sent even when empty). */
  answered: boolean;
  sentVersion: string;
  ackedVersion: string | undefined;
  /** Resources (or removals) of the current snapshot held back because the client rejected exactly them. */
  heldBack: number;
}

type DeltaStream = IdentifiedStream<OutgoingDeltaResponse, DeltaTypeState>;

/** What a changed resource forces to be re-sent: a cluster its endpoints, a listener its route configs. */
const DEPENDENT: Partial<
  Record<TypeUrl, { type: TypeUrl; names: (r: EncodedResource) => readonly string[] }>
> = {
  [TYPE_URLS.cluster]: {
    type: TYPE_URLS.endpoint,
    names: (r) => (r.refs.eds === undefined ? [] : [r.refs.eds]),
  },
  [TYPE_URLS.listener]: { type: TYPE_URLS.route, names: (r) => r.refs.routes },
};

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
const subscribed = (st: DeltaTypeState, name: string): boolean => st.wildcard || st.names.has(name);

/**
 * Delta ADS. Node handshake, unknown type URLs, syncz rows: see StreamSet (stream.ts). Contracts, per
 * stream and type:
 * - nothing is sent before the cache is synced and holds a snapshot for the node's group;
 * - LDS/CDS asked for first with no names (or "*") is a wildcard subscription; otherwise the names
 *   subscribed; unsubscribing drops a name without a removal notice; subscribing a name not yet
 *   subscribed sends it even if the client had it; initial_resource_versions (first request of a type)
 *   seeds what the client holds, so a reconnect is sent only what differs; the first response to a
 *   wildcard subscription is sent even when empty (the client waits for it);
 * - only resources whose version differs from what the client holds are sent; names it holds that the
 *   snapshot no longer has are sent in removed_resources, but only once nothing the stream was sent is
 *   unacknowledged or held back (make before break: every addition of a push lands first);
 * - a changed cluster re-sends its endpoints, a changed listener its route configs (same version or not);
 * - at most one unacknowledged response; a request whose response_nonce is not the last one sent is stale:
 *   it is not taken as ACK/NACK, but its (un)subscriptions apply (in delta they are not repeated later);
 * - ACK: the response's resources become what the client holds; NACK (error_detail set): recorded in
 *   syncz, the client keeps what it held, and the rejected versions are not sent to it again;
 * - types are pushed in the order CDS → EDS → LDS → RDS, removals in the same order after them;
 * - system_version_info (syncz's acked version) is the type's snapshot version when the response was sent.
 */
export class DeltaServer {
  private readonly cache: SnapshotCache;
  private readonly streams: StreamSet<OutgoingDeltaResponse, DeltaTypeState>;
  private readonly unsubscribe: () => void;
  private nextNonce = 1;

  constructor(opts: DeltaServerOptions) {
    this.cache = opts.cache;
    this.streams = new StreamSet<OutgoingDeltaResponse, DeltaTypeState>({
      ...opts,
      protocol: 'delta',
      view: (st) => ({
        version: st.sentVersion,
        ackedVersion: st.ackedVersion,
        resources: heldResources(st),
      }),
      onRequest: (stream, typeUrl, req) => this.onRequest(stream, typeUrl, req),
    });
    this.unsubscribe = opts.cache.subscribe((groups) => {
      for (const s of this.streams.inGroups(groups)) this.pump(s);
    });
  }

  /** Serves one DeltaAggregatedResources call until either side ends it. */
  open(call: grpc.ServerDuplexStream<object, OutgoingDeltaResponse>): void {
    this.streams.open(call);
  }

  /** Ends every stream and drops the cache subscription. */
  close(): void {
    this.unsubscribe();
    this.streams.closeAll();
  }

  /** syncz rows of the delta streams that have identified their node (unsorted). */
  syncz(): ProxySync[] {
    return this.streams.syncz();
  }

  /**
   * Per delta stream of node `nodeId` and type: the version of the last response (system_version_info),
   * the last ACKed one, and the resources the client holds (ACKed), in name order.
   */
  sentTo(nodeId: string): ConfigDump {
    return this.streams.sentTo(nodeId);
  }

  /** Number of delta streams that have identified their node. */
  get connected(): number {
    return this.streams.connected;
  }

  // ---------------------------------------------------------------------------------- streams

  private onRequest(stream: DeltaStream, type: TypeUrl, req: Obj): void {
    const subscribe = strings(req['resource_names_subscribe']);
    let st = stream.types.get(type);
    const first = st === undefined;
    if (st === undefined) {
      st = {
        wildcard: WILDCARD_TYPES.has(type) && (subscribe.length === 0 || subscribe.includes('*')),
        names: new Set(),
        has: new Map(),
        rejected: new Map(),
        forced: new Set(),
        pending: undefined,
        lastNonce: undefined,
        answered: false,
        sentVersion: '',
        ackedVersion: undefined,
        heldBack: 0,
      };
      stream.types.set(type, st);
    }
    const nonce = strField(req, 'response_nonce');
    if (nonce !== '' && nonce !== st.lastNonce) this.streams.stale(stream, type, nonce);
    else if (nonce !== '' && st.pending) this.settle(stream, st, type, st.pending, req['error_detail']);
    this.resubscribe(st, subscribe, strings(req['resource_names_unsubscribe']));
    if (first && isObj(req['initial_resource_versions']))
      for (const [name, version] of Object.entries(req['initial_resource_versions']))
        if (typeof version === 'string' && subscribed(st, name))
          st.has.set(name, { version, resource: undefined });
    this.pump(stream);
  }

  /** Applies an ACK or NACK of the type's pending response. */
  private settle(
    stream: DeltaStream,
    st: DeltaTypeState,
    type: TypeUrl,
    p: PendingResponse,
    detail: unknown,
  ): void {
    st.pending = undefined;
    if (this.streams.nacked(stream, type, p.version, p.nonce, detail)) {
      for (const r of p.updates) st.rejected.set(r.name, r.version);
      for (const n of p.removed) st.rejected.set(n, null);
      return;
    }
    for (const r of p.updates) {
      st.rejected.delete(r.name);
      // A name unsubscribed while the response was in flight is not held (the client drops it).
      if (subscribed(st, r.name)) st.has.set(r.name, { version: r.version, resource: r });
    }
    for (const n of p.removed) {
      st.rejected.delete(n);
      st.has.delete(n);
    }
    st.ackedVersion = p.version;
  }

  private resubscribe(
    st: DeltaTypeState,
    subscribe: readonly string[],
    unsubscribe: readonly string[],
  ): void {
    if (subscribe.includes('*')) st.wildcard = true;
    for (const n of subscribe) {
      if (n === '*' || st.names.has(n)) continue;
      if (!st.wildcard) st.has.delete(n);
      st.names.add(n);
    }
    if (unsubscribe.includes('*')) st.wildcard = false;
    for (const n of unsubscribe) st.names.delete(n);
    if (unsubscribe.length > 0)
      for (const n of [...st.has.keys()])
        if (!subscribed(st, n)) {
          st.has.delete(n);
          st.rejected.delete(n);
        }
  }

  /**
   * Sends, in push order, each type's changed resources (if it has no pending response), then — once the
   * stream has nothing pending or held back — the removals; then reports convergence.
   */
  private pump(stream: DeltaStream): void {
    if (stream.closed) return;
    const snapshot = this.cache.get(stream.node.kind);
    if (!snapshot) return;
    const seq = this.cache.seq;
    for (const type of PUSH_ORDER) this.sendUpdates(stream, snapshot, type);
    const settled = (): boolean => [...stream.types.values()].every((st) => !st.pending && st.heldBack === 0);
    if (!settled()) return;
    for (const type of PUSH_ORDER) this.sendRemovals(stream, snapshot, type);
    if (settled()) this.streams.settled(stream, seq);
  }

  private sendUpdates(stream: DeltaStream, snapshot: Snapshot, type: TypeUrl): void {
    const st = stream.types.get(type);
    if (!st || st.pending) return;
    const updates: EncodedResource[] = [];
    st.heldBack = 0;
    for (const r of desired(st, snapshot.types.get(type)?.resources)) {
      const forced = st.forced.has(r.name);
      const held = st.has.get(r.name);
      if (held?.version === r.version && !forced) held.resource = r;
      else if (st.rejected.get(r.name) === r.version && !forced) st.heldBack++;
      else updates.push(r);
    }
    st.forced.clear();
    if (updates.length === 0 && (st.answered || !st.wildcard)) return;
    const dep = DEPENDENT[type];
    const depState = dep && stream.types.get(dep.type);
    if (dep && depState)
      for (const r of updates) if (st.has.has(r.name)) for (const n of dep.names(r)) depState.forced.add(n);
    this.send(stream, st, type, snapshot, updates, []);
  }

  private sendRemovals(stream: DeltaStream, snapshot: Snapshot, type: TypeUrl): void {
    const st = stream.types.get(type);
    if (!st || st.pending) return;
    const resources = snapshot.types.get(type)?.resources;
    const removed: string[] = [];
    for (const n of st.has.keys()) {
      if (resources?.has(n)) continue;
      if (st.rejected.get(n) === null) st.heldBack++;
      else removed.push(n);
    }
    if (removed.length > 0) this.send(stream, st, type, snapshot, [], removed.sort());
  }

  private send(
    stream: DeltaStream,
    st: DeltaTypeState,
    type: TypeUrl,
    snapshot: Snapshot,
    updates: readonly EncodedResource[],
    removed: readonly string[],
  ): void {
    const nonce = String(this.nextNonce++);
    const version = snapshot.types.get(type)?.version ?? '';
    st.pending = { nonce, version, updates, removed };
    st.lastNonce = nonce;
    st.answered = true;
    st.sentVersion = version;
    this.streams.pushed(stream, type);
    stream.call.write({
      system_version_info: version,
      type_url: type,
      nonce,
      resources: updates,
      removed_resources: removed,
    });
  }
}

/** The subscribed resources of the snapshot, in name order. */
function desired(
  st: DeltaTypeState,
  resources: ReadonlyMap<string, EncodedResource> | undefined,
): EncodedResource[] {
  if (!resources) return [];
  if (st.wildcard) return [...resources.values()];
  const out: EncodedResource[] = [];
  for (const n of st.names) {
    const r = resources.get(n);
    if (r) out.push(r);
  }
  return out.sort(byName);
}

function heldResources(st: DeltaTypeState): EncodedResource[] {
  const out: EncodedResource[] = [];
  for (const h of st.has.values()) if (h.resource) out.push(h.resource);
  return out.sort(byName);
}
