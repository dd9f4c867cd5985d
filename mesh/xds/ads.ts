// State-of-the-world ADS (envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources)
// on @grpc/grpc-js, serving the SnapshotCache: per stream and type subscriptions, nonces, ACK/NACK, syncz.
// It also hosts the Delta method (delta.ts) and includes its streams in syncz and config_dump.
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { SnapshotCache } from '../cache.js';
import type { ConvergenceSink } from '../convergence.js';
import { envoyIncludeDirs } from '../protos.js';
import type { EncodedResource, Snapshot, TypeSnapshot, TypeUrl } from '../snapshot.js';
import { PUSH_ORDER } from '../snapshot.js';
import { TYPE_URLS } from '../translate/index.js';
import type { OutgoingDeltaResponse } from './delta.js';
import { DeltaServer, encodeDeltaDiscoveryResponse } from './delta.js';
import type { AdsLogger, AdsMetrics, ConfigDump, IdentifiedStream, Obj, ProxySync } from './stream.js';
import { StreamSet, strField, strings, WILDCARD_TYPES } from './stream.js';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const ADS_PROTO = 'envoy/service/discovery/v3/ads.proto';

/** proto-loader options for ads.proto: field names as in the .proto, oneof names, defaults filled. */
export const ADS_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

/** Loads ads.proto (~0.3 s) with proto-loader and returns the ADS service definition. */
export function loadAdsService(): ServiceDefinition {
  const pkg = loadSync(ADS_PROTO, { ...ADS_LOADER_OPTIONS, includeDirs: envoyIncludeDirs() });
  const def = pkg[ADS_SERVICE_NAME];
  if (def === undefined || 'format' in def) throw new Error(`${ADS_PROTO} defines no ${ADS_SERVICE_NAME}`);
  return def;
}

/** What the server writes: the Any bytes of each resource are the snapshot's, never re-encoded. */
export interface OutgoingResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: readonly Uint8Array[];
}

/** DiscoveryResponse {version_info = 1, resources = 2 (Any), type_url = 4, nonce = 5}, hand-encoded. */
export function encodeDiscoveryResponse(r: OutgoingResponse): Buffer {
  const w = protobuf.Writer.create();
  if (r.version_info) w.uint32(10).string(r.version_info);
  for (const any of r.resources) w.uint32(18).bytes(any);
  w.uint32(34).string(r.type_url);
  w.uint32(42).string(r.nonce);
  return Buffer.from(w.finish());
}

export type { AdsLogger, AdsMetrics, NackRecord, ProxySync, SentType } from './stream.js';
export { closedOverReferences } from './stream.js';

const defaultLogger: AdsLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

export interface AdsServerOptions {
  cache: SnapshotCache;
  /** Told when a stream has ACKed everything of a publish (see ConvergenceSink). */
  convergence?: ConvergenceSink;
  /** Counts of what the server does (pushes, NACKs, connected streams); all optional. */
  metrics?: AdsMetrics;
  log?: AdsLogger;
  now?: () => Date;
}

interface TypeState {
  /** Resource names asked for; undefined = wildcard (LDS/CDS asked for with no names). */
  names: Set<string> | undefined;
  /** Name → version of what the last response carried (ACKed or not). */
  sent: Map<string, string> | undefined;
  /** The resources of the last response (shared snapshot bytes, for /debug/config_dump). */
  sentResources: readonly EncodedResource[];
  sentVersion: string;
  sentNonce: string | undefined;
  /** A response is unacknowledged: nothing more of this type is sent until its ACK or NACK. */
  pending: boolean;
  ackedVersion: string | undefined;
  /** Send even if the content did not change (a changed cluster re-sends its endpoints, …). */
  forced: boolean;
  /** The last response of this type was NACKed and nothing since was ACKed. */
  rejected: boolean;
  /**
   * The type snapshot and subscription the last look at this type compared against: while both are the
   * same objects (a publish that left the type alone, an ACK with the same names) there is nothing new.
   */
  basis: { snapshot: TypeSnapshot | undefined; names: Set<string> | undefined } | undefined;
}

type Stream = IdentifiedStream<OutgoingResponse, TypeState>;

/** What a change of one type forces to be re-sent: a cluster its endpoints, a listener its routes. */
const DEPENDENT: Partial<Record<TypeUrl, TypeUrl>> = {
  [TYPE_URLS.cluster]: TYPE_URLS.endpoint,
  [TYPE_URLS.listener]: TYPE_URLS.route,
};

/**
 * The ADS server. Stream handshake, unknown type URLs and syncz rows: see StreamSet (stream.ts); Delta
 * streams: see DeltaServer (delta.ts). Contracts, per stream and type (SotW):
 * - nothing is sent before the cache is synced and holds a snapshot for the node's group, nor before
 *   the node asked for the type; the first request of a type on a stream always gets a response
 *   (a reconnect gets the full current config);
 * - at most one unacknowledged response; a request whose response_nonce is not the last one sent is
 *   stale and ignored (a later request carries the current nonce and subscription);
 * - ACK records the acked version; NACK (error_detail set) records {node, type, version, message}
 *   and the same content is not sent again — only a change (snapshot or subscription) is;
 * - on a change types are pushed in the order CDS → EDS → LDS → RDS; a changed cluster set re-sends
 *   the endpoints, a changed listener set the routes, even when those did not change (even if that
 *   same endpoint/route content was NACKed before: the node needs it to finish warming);
 * - every write is a DiscoveryResponse whose resources are the snapshot's Any bytes as they are;
 *   write backpressure is not handled yet (a slow stream buffers in grpc-js).
 */
export class AdsServer {
  private readonly cache: SnapshotCache;
  private readonly log: AdsLogger;
  private readonly streams: StreamSet<OutgoingResponse, TypeState>;
  private readonly unsubscribe: () => void;
  /** The Delta streams (DeltaAggregatedResources); syncz, sentTo and connected include them. */
  private readonly delta: DeltaServer;
  private nextStreamId = 1;
  private nextNonce = 1;
  private server: grpc.Server | undefined;

  constructor(opts: AdsServerOptions) {
    this.cache = opts.cache;
    this.log = opts.log ?? defaultLogger;
    const shared = {
      log: this.log,
      now: opts.now ?? (() => new Date()),
      convergence: opts.convergence,
      metrics: opts.metrics,
      nextStreamId: () => this.nextStreamId++,
    };
    this.streams = new StreamSet<OutgoingResponse, TypeState>({
      ...shared,
      protocol: 'sotw',
      view: (st) => ({ version: st.sentVersion, ackedVersion: st.ackedVersion, resources: st.sentResources }),
      onRequest: (stream, typeUrl, req) => this.onRequest(stream, typeUrl, req),
    });
    this.delta = new DeltaServer({ ...shared, cache: this.cache });
    this.unsubscribe = this.cache.subscribe((groups) => {
      for (const s of this.streams.inGroups(groups)) this.pump(s);
    });
  }

  /** Registers the ADS service (SotW and Delta) on a grpc-js server. */
  addTo(server: grpc.Server, service: ServiceDefinition = loadAdsService()): void {
    const sotw = service['StreamAggregatedResources'];
    if (sotw === undefined) throw new Error(`${ADS_SERVICE_NAME} has no StreamAggregatedResources`);
    const delta = service['DeltaAggregatedResources'];
    if (delta === undefined) throw new Error(`${ADS_SERVICE_NAME} has no DeltaAggregatedResources`);
    const def: ServiceDefinition = {
      ...service,
      StreamAggregatedResources: {
        ...sotw,
        responseSerialize: (r: OutgoingResponse) => encodeDiscoveryResponse(r),
      } as MethodDefinition<object, object>,
      DeltaAggregatedResources: {
        ...delta,
        responseSerialize: (r: OutgoingDeltaResponse) => encodeDeltaDiscoveryResponse(r),
      } as MethodDefinition<object, object>,
    };
    server.addService(def, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<object, OutgoingResponse>) =>
        this.streams.open(call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<object, OutgoingDeltaResponse>) =>
        this.delta.open(call),
    });
  }

  /** Starts its own grpc-js server on host:port (0 picks a free port) and returns the bound port. */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    const server = new grpc.Server();
    this.addTo(server);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
  }

  /** Ends every stream and stops the server listen() started; the cache subscription is dropped. */
  async close(): Promise<void> {
    this.unsubscribe();
    this.delta.close();
    this.streams.closeAll();
    const server = this.server;
    this.server = undefined;
    if (server) server.forceShutdown();
    await Promise.resolve();
  }

  /** /debug/syncz: every connected stream (SotW and Delta) that has identified its node, by node id, then stream. */
  syncz(): ProxySync[] {
    return [...this.streams.syncz(), ...this.delta.syncz()].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : a.stream - b.stream,
    );
  }

  /** What the streams of node `nodeId` were last sent, per stream and type (for /debug/config_dump). */
  sentTo(nodeId: string): ConfigDump {
    return [...this.streams.sentTo(nodeId), ...this.delta.sentTo(nodeId)].sort((a, b) => a.stream - b.stream);
  }

  /** Number of streams (SotW and Delta) that have identified their node. */
  get connected(): number {
    return this.streams.connected + this.delta.connected;
  }

  // ---------------------------------------------------------------------------------- streams

  private onRequest(stream: Stream, type: TypeUrl, req: Obj): void {
    let st = stream.types.get(type);
    const nonce = strField(req, 'response_nonce');
    if (st?.sentNonce !== undefined && nonce !== st.sentNonce) {
      this.streams.stale(stream, type, nonce);
      return;
    }
    if (st === undefined) {
      st = {
        names: undefined,
        sent: undefined,
        sentResources: [],
        sentVersion: '',
        sentNonce: undefined,
        pending: false,
        ackedVersion: undefined,
        forced: false,
        rejected: false,
        basis: undefined,
      };
      stream.types.set(type, st);
    }
    if (st.pending) {
      st.pending = false;
      if (this.streams.nacked(stream, type, st.sentVersion, nonce, req['error_detail'])) st.rejected = true;
      else {
        st.ackedVersion = st.sentVersion;
        st.rejected = false;
      }
    }
    const names = strings(req['resource_names']);
    const asked = names.length === 0 && WILDCARD_TYPES.has(type) ? undefined : new Set(names);
    // The same subscription keeps its Set, so the next pump can tell nothing changed without comparing.
    if (!sameNames(st.names, asked)) st.names = asked;
    this.pump(stream);
  }

  /** Sends, in push order, every type that has something new for this stream and no pending response. */
  private pump(stream: Stream): void {
    if (stream.closed) return;
    const snapshot = this.cache.get(stream.node.kind);
    if (!snapshot) return;
    const seq = this.cache.seq;
    for (const type of PUSH_ORDER) this.maybeSend(stream, snapshot, type);
    for (const st of stream.types.values()) if (st.pending || st.rejected) return;
    this.streams.settled(stream, seq);
  }

  private maybeSend(stream: Stream, snapshot: Snapshot, type: TypeUrl): void {
    const st = stream.types.get(type);
    if (!st || st.pending) return;
    const ts = snapshot.types.get(type);
    const basis = st.basis;
    if (!st.forced && basis !== undefined && basis.snapshot === ts && basis.names === st.names) return;
    st.basis = { snapshot: ts, names: st.names };
    const chosen = selectResources(ts?.resources, st.names);
    const content = new Map(chosen.map((r) => [r.name, r.version]));
    const changed = st.sent === undefined || !sameContent(st.sent, content);
    if (!changed && !st.forced) return;
    const dependent = DEPENDENT[type];
    if (changed && st.sent !== undefined && dependent) {
      const dep = stream.types.get(dependent);
      if (dep) dep.forced = true;
    }
    st.forced = false;
    st.sent = content;
    st.sentResources = chosen;
    st.sentVersion = ts?.version ?? '';
    st.sentNonce = String(this.nextNonce++);
    st.pending = true;
    this.streams.pushed(stream, type);
    stream.call.write({
      version_info: st.sentVersion,
      type_url: type,
      nonce: st.sentNonce,
      resources: chosen.map((r) => r.any),
    });
  }
}

/** The subscribed resources in name order: a direct lookup per name, not a scan of every resource. */
function selectResources(
  resources: ReadonlyMap<string, EncodedResource> | undefined,
  names: ReadonlySet<string> | undefined,
): EncodedResource[] {
  if (!resources) return [];
  if (names === undefined) return [...resources.values()];
  const out: EncodedResource[] = [];
  for (const n of names) {
    const r = resources.get(n);
    if (r) out.push(r);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sameNames(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const n of a) if (!b.has(n)) return false;
  return true;
}

function sameContent(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
