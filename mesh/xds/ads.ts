// State-of-the-world ADS (envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources)
// on @grpc/grpc-js, serving the SnapshotCache: per stream and type subscriptions, nonces, ACK/NACK, syncz.
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { NodeGroup, SnapshotCache } from '../cache.js';
import type { ConvergenceSink } from '../convergence.js';
import { envoyIncludeDirs } from '../protos.js';
import type { EncodedResource, Snapshot, TypeUrl } from '../snapshot.js';
import { PUSH_ORDER } from '../snapshot.js';
import { TYPE_URLS } from '../translate/index.js';
import type { NodeIdentity } from './node.js';
import { parseNode } from './node.js';

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

export interface AdsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const defaultLogger: AdsLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

export interface NackRecord {
  typeUrl: string;
  /** The version the node rejected (it keeps its last good one, `ackedVersion`). */
  version: string;
  nonce: string;
  message: string;
  at: string;
}

/** What one stream was last sent of one type. */
export interface SentType {
  typeUrl: TypeUrl;
  version: string;
  ackedVersion?: string;
  resources: readonly EncodedResource[];
}

/** One connected stream, as /debug/syncz shows it. */
export interface ProxySync {
  stream: number;
  id: string;
  kind: NodeGroup;
  namespace: string;
  connectedSince: string;
  /** Per type URL: the last version the node ACKed. */
  acked: Record<string, string>;
  lastNack?: NackRecord;
}

export interface AdsServerOptions {
  cache: SnapshotCache;
  /** Told when a stream has ACKed everything of a publish (see ConvergenceSink). */
  convergence?: ConvergenceSink;
  /** Counts of what the server does (pushes, NACKs, connected streams); all optional. */
  metrics?: AdsMetrics;
  log?: AdsLogger;
  now?: () => Date;
}

/** Hooks for the xDS metrics of SPEC §6; the mesh wires them to prom-client. */
export interface AdsMetrics {
  pushed(typeUrl: string, group: NodeGroup): void;
  nacked(typeUrl: string, group: NodeGroup): void;
  connected(delta: 1 | -1, group: NodeGroup): void;
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
}

interface Stream {
  id: number;
  call: grpc.ServerDuplexStream<object, OutgoingResponse>;
  node: NodeIdentity | undefined;
  connectedSince: Date;
  types: Map<TypeUrl, TypeState>;
  lastNack: NackRecord | undefined;
  closed: boolean;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(PUSH_ORDER);
/** Types where an empty resource_names means "all of them" (wildcard). */
const WILDCARD_TYPES: ReadonlySet<string> = new Set([TYPE_URLS.listener, TYPE_URLS.cluster]);
/** What a change of one type forces to be re-sent: a cluster its endpoints, a listener its routes. */
const DEPENDENT: Partial<Record<TypeUrl, TypeUrl>> = {
  [TYPE_URLS.cluster]: TYPE_URLS.endpoint,
  [TYPE_URLS.listener]: TYPE_URLS.route,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strField = (o: Obj, k: string): string => (typeof o[k] === 'string' ? o[k] : '');

/**
 * The ADS server. Contracts, per stream and type (SotW):
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
 *   write backpressure is not handled yet (a slow stream buffers in grpc-js);
 * - an unknown type URL is logged as an error and gets no response (the stream stays open: Envoy
 *   asks for types a control plane may not serve, and an error would tear down all the others).
 */
export class AdsServer {
  private readonly cache: SnapshotCache;
  private readonly log: AdsLogger;
  private readonly now: () => Date;
  private readonly convergence: ConvergenceSink | undefined;
  private readonly metrics: AdsMetrics | undefined;
  private readonly streams = new Map<number, Stream>();
  private readonly unsubscribe: () => void;
  private nextStreamId = 1;
  private nextNonce = 1;
  private server: grpc.Server | undefined;

  constructor(opts: AdsServerOptions) {
    this.cache = opts.cache;
    this.log = opts.log ?? defaultLogger;
    this.now = opts.now ?? (() => new Date());
    this.convergence = opts.convergence;
    this.metrics = opts.metrics;
    this.unsubscribe = this.cache.subscribe((groups) => {
      for (const s of this.streams.values()) if (s.node && groups.includes(s.node.kind)) this.pump(s);
    });
  }

  /** Registers the ADS service on a grpc-js server (Delta answers UNIMPLEMENTED for now). */
  addTo(server: grpc.Server, service: ServiceDefinition = loadAdsService()): void {
    const sotw = service['StreamAggregatedResources'];
    if (sotw === undefined) throw new Error(`${ADS_SERVICE_NAME} has no StreamAggregatedResources`);
    const def: ServiceDefinition = {
      ...service,
      StreamAggregatedResources: {
        ...sotw,
        responseSerialize: (r: OutgoingResponse) => encodeDiscoveryResponse(r),
      } as MethodDefinition<object, object>,
    };
    server.addService(def, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<object, OutgoingResponse>) =>
        this.onStream(call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<object, object>) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'Delta xDS is not served yet' });
      },
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
    for (const s of [...this.streams.values()]) this.drop(s);
    const server = this.server;
    this.server = undefined;
    if (server) server.forceShutdown();
    await Promise.resolve();
  }

  /** /debug/syncz: every connected stream that has identified its node, sorted by node id, then stream. */
  syncz(): ProxySync[] {
    const out: ProxySync[] = [];
    for (const s of this.streams.values()) {
      if (!s.node) continue;
      const acked: Record<string, string> = {};
      for (const [t, st] of s.types) if (st.ackedVersion !== undefined) acked[t] = st.ackedVersion;
      out.push({
        stream: s.id,
        id: s.node.id,
        kind: s.node.kind,
        namespace: s.node.namespace,
        connectedSince: s.connectedSince.toISOString(),
        acked,
        ...(s.lastNack ? { lastNack: { ...s.lastNack } } : {}),
      });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.stream - b.stream));
  }

  /** What the streams of node `nodeId` were last sent, per stream and type (for /debug/config_dump). */
  sentTo(nodeId: string): Array<{ stream: number; kind: NodeGroup; types: SentType[] }> {
    const out: Array<{ stream: number; kind: NodeGroup; types: SentType[] }> = [];
    for (const s of this.streams.values()) {
      if (s.node?.id !== nodeId) continue;
      const types: SentType[] = [];
      for (const t of PUSH_ORDER) {
        const st = s.types.get(t);
        if (!st) continue;
        types.push({
          typeUrl: t,
          version: st.sentVersion,
          ...(st.ackedVersion !== undefined ? { ackedVersion: st.ackedVersion } : {}),
          resources: st.sentResources,
        });
      }
      out.push({ stream: s.id, kind: s.node.kind, types });
    }
    return out;
  }

  /** Number of streams that have identified their node. */
  get connected(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.node) n++;
    return n;
  }

  // ---------------------------------------------------------------------------------- streams

  private onStream(call: grpc.ServerDuplexStream<object, OutgoingResponse>): void {
    const stream: Stream = {
      id: this.nextStreamId++,
      call,
      node: undefined,
      connectedSince: this.now(),
      types: new Map(),
      lastNack: undefined,
      closed: false,
    };
    this.streams.set(stream.id, stream);
    call.on('data', (req: unknown) => this.onRequest(stream, req));
    call.on('end', () => {
      this.drop(stream);
    });
    call.on('error', () => this.drop(stream));
    call.on('cancelled', () => this.drop(stream));
    call.on('close', () => this.drop(stream));
  }

  private drop(stream: Stream): void {
    if (stream.closed) return;
    this.forget(stream);
    try {
      stream.call.end();
    } catch {
      // Already closed by the peer.
    }
  }

  /** Marks the stream closed and tells convergence and metrics it is gone. */
  private forget(stream: Stream): void {
    stream.closed = true;
    this.streams.delete(stream.id);
    this.convergence?.closed(`sotw/${stream.id}`);
    if (stream.node) this.metrics?.connected(-1, stream.node.kind);
  }

  private fail(stream: Stream, code: grpc.status, details: string): void {
    if (stream.closed) return;
    this.forget(stream);
    stream.call.emit('error', { code, details });
  }

  private onRequest(stream: Stream, req: unknown): void {
    if (stream.closed || !isObj(req)) return;
    if (!stream.node) {
      const parsed = parseNode(req['node']);
      if (!parsed.ok) {
        this.log.warn({ stream: stream.id, reason: parsed.message }, 'xDS stream rejected');
        this.fail(stream, grpc.status.INVALID_ARGUMENT, parsed.message);
        return;
      }
      stream.node = parsed.node;
      this.metrics?.connected(1, parsed.node.kind);
      this.log.info(
        { stream: stream.id, node: parsed.node.id, kind: parsed.node.kind },
        'xDS stream connected',
      );
    }
    const typeUrl = strField(req, 'type_url');
    if (!KNOWN_TYPES.has(typeUrl)) {
      this.log.error(
        { stream: stream.id, node: stream.node.id, typeUrl },
        `xDS request for unknown type URL "${typeUrl}" ignored (no response); served: ${PUSH_ORDER.join(', ')}`,
      );
      return;
    }
    const type = typeUrl as TypeUrl;
    let st = stream.types.get(type);
    const nonce = strField(req, 'response_nonce');
    if (st?.sentNonce !== undefined && nonce !== st.sentNonce) {
      this.log.info({ stream: stream.id, node: stream.node.id, typeUrl, nonce }, 'stale xDS nonce ignored');
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
      };
      stream.types.set(type, st);
    }
    if (st.pending) {
      st.pending = false;
      const detail = req['error_detail'];
      const message = isObj(detail) ? strField(detail, 'message') : '';
      const code = isObj(detail) ? Number(detail['code'] ?? 0) : 0;
      if (isObj(detail) && (message !== '' || code !== 0)) {
        stream.lastNack = {
          typeUrl,
          version: st.sentVersion,
          nonce,
          message,
          at: this.now().toISOString(),
        };
        st.rejected = true;
        this.metrics?.nacked(typeUrl, stream.node.kind);
        this.log.warn(
          { stream: stream.id, node: stream.node.id, typeUrl, version: st.sentVersion, error: message },
          'xDS NACK',
        );
      } else {
        st.ackedVersion = st.sentVersion;
        st.rejected = false;
      }
    }
    const names = Array.isArray(req['resource_names'])
      ? req['resource_names'].filter((n): n is string => typeof n === 'string')
      : [];
    st.names = names.length === 0 && WILDCARD_TYPES.has(type) ? undefined : new Set(names);
    this.pump(stream);
  }

  /** Sends, in push order, every type that has something new for this stream and no pending response. */
  private pump(stream: Stream): void {
    if (stream.closed || !stream.node) return;
    const snapshot = this.cache.get(stream.node.kind);
    if (!snapshot) return;
    const seq = this.cache.seq;
    for (const type of PUSH_ORDER) this.maybeSend(stream, snapshot, type);
    if (this.convergence && stream.types.size > 0) {
      for (const st of stream.types.values()) if (st.pending || st.rejected) return;
      if (!closedOverReferences(stream.types)) return;
      this.convergence.progress(`sotw/${stream.id}`, stream.node.id, stream.node.kind, seq);
    }
  }

  private maybeSend(stream: Stream, snapshot: Snapshot, type: TypeUrl): void {
    const st = stream.types.get(type);
    if (!st || st.pending) return;
    const ts = snapshot.types.get(type);
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
    this.metrics?.pushed(type, stream.node?.kind ?? 'sidecar');
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

/**
 * True when what the stream holds (everything it was sent, all ACKed) is complete: every route and cluster
 * its listeners and routes name, and the endpoints of every EDS cluster, are among what it holds. A client
 * subscribes to newly named clusters only after ACKing the listener that names them, and uses the new
 * listener only once those arrived — so an ACKed listener alone does not mean the new config is live.
 */
export function closedOverReferences(
  types: ReadonlyMap<TypeUrl, { sentResources: readonly EncodedResource[] }>,
): boolean {
  const held = (t: TypeUrl): ReadonlySet<string> =>
    new Set((types.get(t)?.sentResources ?? []).map((r) => r.name));
  const routes = held(TYPE_URLS.route);
  const clusters = held(TYPE_URLS.cluster);
  const endpoints = held(TYPE_URLS.endpoint);
  for (const t of [TYPE_URLS.listener, TYPE_URLS.route] as const)
    for (const r of types.get(t)?.sentResources ?? []) {
      for (const n of r.refs.routes) if (!routes.has(n)) return false;
      for (const n of r.refs.clusters) if (!clusters.has(n)) return false;
    }
  for (const r of types.get(TYPE_URLS.cluster)?.sentResources ?? [])
    if (r.refs.eds !== undefined && !endpoints.has(r.refs.eds)) return false;
  return true;
}

function sameContent(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
