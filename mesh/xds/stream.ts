// What SotW and Delta ADS streams share: the node handshake, unknown type URLs, NACK records, stream
// lifecycle, syncz and config_dump rows, and the "closed over references" test behind convergence reports.
import * as grpc from '@grpc/grpc-js';
import type { NodeGroup } from '../cache.js';
import type { ConvergenceSink } from '../convergence.js';
import type { EncodedResource, TypeUrl } from '../snapshot.js';
import { PUSH_ORDER } from '../snapshot.js';
import { TYPE_URLS } from '../translate/index.js';
import type { NodeIdentity } from './node.js';
import { parseNode } from './node.js';

export interface AdsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Hooks for the xDS metrics of SPEC §6; the mesh wires them to prom-client. */
export interface AdsMetrics {
  pushed(typeUrl: string, group: NodeGroup): void;
  nacked(typeUrl: string, group: NodeGroup): void;
  connected(delta: 1 | -1, group: NodeGroup): void;
}

export interface NackRecord {
  typeUrl: string;
  /** The version the node rejected (it keeps its last good one, `ackedVersion`). */
  version: string;
  nonce: string;
  message: string;
  at: string;
}

/** What one stream was last sent of one type (Delta: what the client holds, ACKed). */
export interface SentType {
  typeUrl: TypeUrl;
  version: string;
  ackedVersion?: string;
  resources: readonly EncodedResource[];
}

export type XdsProtocol = 'sotw' | 'delta';

/** One connected stream, as /debug/syncz shows it. */
export interface ProxySync {
  stream: number;
  protocol: XdsProtocol;
  id: string;
  kind: NodeGroup;
  namespace: string;
  connectedSince: string;
  /** Per type URL: the last version the node ACKed. */
  acked: Record<string, string>;
  lastNack?: NackRecord;
}

export type ConfigDump = Array<{ stream: number; kind: NodeGroup; types: SentType[] }>;

/** Types where a request naming nothing means "all of them" (wildcard). */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([TYPE_URLS.listener, TYPE_URLS.cluster]);
const KNOWN_TYPES: ReadonlySet<string> = new Set(PUSH_ORDER);

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const strField = (o: Obj, k: string): string => (typeof o[k] === 'string' ? o[k] : '');
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : [];

/** What syncz and config_dump show of one type of a stream. */
export interface TypeView {
  version: string;
  ackedVersion: string | undefined;
  resources: readonly EncodedResource[];
}

export interface XdsStream<W, T> {
  id: number;
  call: grpc.ServerDuplexStream<object, W>;
  /** Set by the first request; requests reach the protocol only once it is. */
  node: NodeIdentity | undefined;
  connectedSince: Date;
  types: Map<TypeUrl, T>;
  lastNack: NackRecord | undefined;
  closed: boolean;
  /** The resource lists last found closed over references (see settled): the same lists need no new look. */
  closedOver?: ReadonlyArray<readonly EncodedResource[]>;
}

export type IdentifiedStream<W, T> = XdsStream<W, T> & { node: NodeIdentity };

/** What both protocols' servers are built with. */
export interface StreamOptions {
  log: AdsLogger;
  now: () => Date;
  convergence: ConvergenceSink | undefined;
  metrics: AdsMetrics | undefined;
  /** Stream numbers, shared by both protocols so that syncz rows are unique. */
  nextStreamId: () => number;
}

export interface StreamSetOptions<W, T> extends StreamOptions {
  protocol: XdsProtocol;
  /** What syncz and config_dump show of one type of a stream. */
  view: (t: T) => TypeView;
  /** A request of a known type URL on an identified stream. */
  onRequest: (stream: IdentifiedStream<W, T>, typeUrl: TypeUrl, req: Obj) => void;
}

/**
 * The streams of one protocol. Contracts: the node is read from the first request (malformed: the stream
 * ends with INVALID_ARGUMENT naming the field); a request for an unknown type URL is logged as an error
 * and gets no response (the stream stays open: Envoy asks for types a control plane may not serve, and an
 * error would tear down all the others); a stream that ends is told to convergence (`<protocol>/<id>`) and
 * metrics once.
 */
export class StreamSet<W, T> {
  private readonly streams = new Map<number, XdsStream<W, T>>();

  constructor(private readonly opts: StreamSetOptions<W, T>) {}

  open(call: grpc.ServerDuplexStream<object, W>): void {
    const stream: XdsStream<W, T> = {
      id: this.opts.nextStreamId(),
      call,
      node: undefined,
      connectedSince: this.opts.now(),
      types: new Map(),
      lastNack: undefined,
      closed: false,
    };
    this.streams.set(stream.id, stream);
    call.on('data', (req: unknown) => this.receive(stream, req));
    for (const event of ['end', 'error', 'cancelled', 'close']) call.on(event, () => this.drop(stream));
  }

  /** The identified streams of the given groups (to pump after a publish). */
  inGroups(groups: readonly NodeGroup[]): Array<IdentifiedStream<W, T>> {
    return [...this.streams.values()].filter(
      (s): s is IdentifiedStream<W, T> => s.node !== undefined && groups.includes(s.node.kind),
    );
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const s of [...this.streams.values()]) this.drop(s);
  }

  /**
   * Records a NACK when `detail` (the request's error_detail) carries a message or code, and returns true;
   * false for an ACK.
   */
  nacked(
    stream: IdentifiedStream<W, T>,
    typeUrl: TypeUrl,
    version: string,
    nonce: string,
    detail: unknown,
  ): boolean {
    const message = isObj(detail) ? strField(detail, 'message') : '';
    const code = isObj(detail) ? Number(detail['code'] ?? 0) : 0;
    if (message === '' && code === 0) return false;
    stream.lastNack = { typeUrl, version, nonce, message, at: this.opts.now().toISOString() };
    this.opts.metrics?.nacked(typeUrl, stream.node.kind);
    this.opts.log.warn(
      { stream: stream.id, node: stream.node.id, typeUrl, version, error: message },
      'xDS NACK',
    );
    return true;
  }

  /** A request whose response_nonce is not the last one sent of its type: logged, not taken as (N)ACK. */
  stale(stream: IdentifiedStream<W, T>, typeUrl: TypeUrl, nonce: string): void {
    this.opts.log.info(
      { stream: stream.id, node: stream.node.id, typeUrl, nonce },
      'stale xDS nonce ignored',
    );
  }

  /** A response was written (metrics). */
  pushed(stream: IdentifiedStream<W, T>, typeUrl: TypeUrl): void {
    this.opts.metrics?.pushed(typeUrl, stream.node.kind);
  }

  /**
   * Call when the stream has ACKed everything it was sent after seeing publish `seq` and nothing is held
   * back: reports progress if what it holds is closed over references (see closedOverReferences).
   */
  settled(stream: IdentifiedStream<W, T>, seq: number): void {
    const convergence = this.opts.convergence;
    if (!convergence || stream.types.size === 0) return;
    const lists = [...stream.types.values()].map((st) => this.opts.view(st).resources);
    const known = stream.closedOver;
    if (!(known && known.length === lists.length && known.every((l, i) => l === lists[i]))) {
      const held = new Map([...stream.types.keys()].map((t, i) => [t, { sentResources: lists[i] ?? [] }]));
      if (!closedOverReferences(held)) return;
      stream.closedOver = lists;
    }
    convergence.progress(`${this.opts.protocol}/${stream.id}`, stream.node.id, stream.node.kind, seq);
  }

  /** syncz rows of the identified streams (unsorted). */
  syncz(): ProxySync[] {
    const out: ProxySync[] = [];
    for (const s of this.streams.values()) {
      if (!s.node) continue;
      const acked: Record<string, string> = {};
      for (const [t, st] of s.types) {
        const v = this.opts.view(st).ackedVersion;
        if (v !== undefined) acked[t] = v;
      }
      out.push({
        stream: s.id,
        protocol: this.opts.protocol,
        id: s.node.id,
        kind: s.node.kind,
        namespace: s.node.namespace,
        connectedSince: s.connectedSince.toISOString(),
        acked,
        ...(s.lastNack ? { lastNack: { ...s.lastNack } } : {}),
      });
    }
    return out;
  }

  /** Per stream of node `nodeId`, per type in push order: versions and resources (for /debug/config_dump). */
  sentTo(nodeId: string): ConfigDump {
    const out: ConfigDump = [];
    for (const s of this.streams.values()) {
      if (s.node?.id !== nodeId) continue;
      const types: SentType[] = [];
      for (const t of PUSH_ORDER) {
        const st = s.types.get(t);
        if (!st) continue;
        const v = this.opts.view(st);
        types.push({
          typeUrl: t,
          version: v.version,
          ...(v.ackedVersion !== undefined ? { ackedVersion: v.ackedVersion } : {}),
          resources: v.resources,
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

  private receive(stream: XdsStream<W, T>, req: unknown): void {
    if (stream.closed || !isObj(req)) return;
    const { log } = this.opts;
    if (!stream.node) {
      const parsed = parseNode(req['node']);
      if (!parsed.ok) {
        log.warn({ stream: stream.id, reason: parsed.message }, 'xDS stream rejected');
        this.forget(stream);
        stream.call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: parsed.message });
        return;
      }
      stream.node = parsed.node;
      this.opts.metrics?.connected(1, parsed.node.kind);
      log.info(
        { stream: stream.id, node: parsed.node.id, kind: parsed.node.kind, protocol: this.opts.protocol },
        'xDS stream connected',
      );
    }
    const typeUrl = strField(req, 'type_url');
    if (!KNOWN_TYPES.has(typeUrl)) {
      log.error(
        { stream: stream.id, node: stream.node.id, typeUrl },
        `xDS request for unknown type URL "${typeUrl}" ignored (no response); served: ${PUSH_ORDER.join(', ')}`,
      );
      return;
    }
    this.opts.onRequest(stream as IdentifiedStream<W, T>, typeUrl as TypeUrl, req);
  }

  private drop(stream: XdsStream<W, T>): void {
    if (stream.closed) return;
    this.forget(stream);
    try {
      stream.call.end();
    } catch {
      // Already closed by the peer.
    }
  }

  /** Marks the stream closed and tells convergence and metrics it is gone. */
  private forget(stream: XdsStream<W, T>): void {
    stream.closed = true;
    this.streams.delete(stream.id);
    this.opts.convergence?.closed(`${this.opts.protocol}/${stream.id}`);
    if (stream.node) this.opts.metrics?.connected(-1, stream.node.kind);
  }
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
