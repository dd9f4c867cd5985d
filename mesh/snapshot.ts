// Snapshot: one client kind's translated resources, each encoded once as google.protobuf.Any bytes and
// versioned by content hash, plus the consistency check run before a snapshot may be published.
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { encodeResource, loadEnvoyProtos } from './protos.js';
import type {
  ClusterResources,
  EnvoyResources,
  ProtoObject,
  ProtoValue,
  RouteResources,
} from './translate/index.js';
import { TYPE_URLS, shortHash } from './translate/index.js';

export type TypeUrl = (typeof TYPE_URLS)[keyof typeof TYPE_URLS];

/** The order of a push (SPEC §4.4): clusters → endpoints → listeners → routes. */
export const PUSH_ORDER: readonly TypeUrl[] = [
  TYPE_URLS.cluster,
  TYPE_URLS.endpoint,
  TYPE_URLS.listener,
  TYPE_URLS.route,
];

/** Names one resource refers to, collected when it is encoded (the consistency check reads only these). */
export interface ResourceRefs {
  /** RouteConfiguration names fetched over RDS. */
  routes: readonly string[];
  /** Cluster names used by routes, weighted clusters, mirrors and tcp_proxy. */
  clusters: readonly string[];
  /** For an EDS cluster: the ClusterLoadAssignment it waits for (service_name, else its name). */
  eds?: string;
}

/** One resource, encoded once: `any` is the whole google.protobuf.Any message, shared by every stream. */
export interface EncodedResource {
  name: string;
  /** Content hash of `any` (16 hex digits). */
  version: string;
  any: Uint8Array;
  refs: ResourceRefs;
}

export interface TypeSnapshot {
  typeUrl: TypeUrl;
  /** Content hash over the (sorted) names and versions of the resources; '' is never produced. */
  version: string;
  /** Sorted by name. */
  resources: ReadonlyMap<string, EncodedResource>;
}

export interface Snapshot {
  /** Hash over the four type versions. */
  version: string;
  /** Every type of PUSH_ORDER is present (possibly with no resources). */
  types: ReadonlyMap<TypeUrl, TypeSnapshot>;
  /** Translation notes, carried for debug output. */
  notes: readonly string[];
}

const VIRTUAL_HOST_TYPE = 'envoy.config.route.v3.VirtualHost';

/** The whole SHA-256 of a resource's text: a memo key that stands for the content (never a collision). */
const contentKey = (text: string): string => createHash('sha256').update(text).digest('base64');

let sharedRoot: protobuf.Root | undefined;
/** The Envoy protos, loaded on first use (~0.2 s) and kept for the process. */
export function envoyRoot(): protobuf.Root {
  sharedRoot ??= loadEnvoyProtos();
  return sharedRoot;
}

/**
 * The bytes in storage of their own. protobufjs returns small messages as slices of Node's shared 8 KB
 * buffer pool, and one kept slice keeps its whole slab alive: thousands of kept resources would hold
 * tens of MB of slabs for a few MB of bytes.
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

/** google.protobuf.Any {type_url = 1, value = 2} around already encoded message bytes, in storage of its own. */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return ownBytes(protobuf.Writer.create().uint32(10).string(typeUrl).uint32(18).bytes(value).finish());
}

// ------------------------------------------------------------------------------------ references

const isObject = (v: ProtoValue | undefined): v is ProtoObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: ProtoValue | undefined): ProtoObject[] =>
  Array.isArray(v) ? (v as readonly ProtoValue[]).filter(isObject) : [];
const str = (v: ProtoValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Clusters a RouteAction (or TcpProxy) sends to: `cluster`, weighted clusters, mirrors. */
function actionClusters(action: ProtoObject, out: string[]): void {
  const single = str(action['cluster']);
  if (single) out.push(single);
  const weighted = action['weighted_clusters'];
  if (isObject(weighted))
    for (const c of objects(weighted['clusters'])) {
      const n = str(c['name']);
      if (n) out.push(n);
    }
  for (const m of objects(action['request_mirror_policies'])) {
    const n = str(m['cluster']);
    if (n) out.push(n);
  }
}

function routeConfigClusters(rc: ProtoObject, out: string[]): void {
  for (const vh of objects(rc['virtual_hosts']))
    for (const r of objects(vh['routes'])) {
      const action = r['route'];
      if (isObject(action)) actionClusters(action, out);
    }
}

/** References of a network filter's typed_config (HttpConnectionManager or TcpProxy), by its `@type`. */
function filterRefs(cfg: ProtoObject, routes: string[], clusters: string[]): void {
  const type = str(cfg['@type']) ?? '';
  if (type.endsWith('.HttpConnectionManager')) {
    const rds = cfg['rds'];
    if (isObject(rds)) {
      const n = str(rds['route_config_name']);
      if (n) routes.push(n);
    }
    const inline = cfg['route_config'];
    if (isObject(inline)) routeConfigClusters(inline, clusters);
  } else if (type.endsWith('.TcpProxy')) actionClusters(cfg, clusters);
}

function refsOf(typeUrl: TypeUrl, r: ProtoObject, name: string): ResourceRefs {
  const routes: string[] = [];
  const clusters: string[] = [];
  if (typeUrl === TYPE_URLS.listener) {
    const api = r['api_listener'];
    if (isObject(api) && isObject(api['api_listener'])) filterRefs(api['api_listener'], routes, clusters);
    for (const chain of [
      ...objects(r['filter_chains']),
      ...(isObject(r['default_filter_chain']) ? [r['default_filter_chain']] : []),
    ])
      for (const f of objects(chain['filters'])) {
        const cfg = f['typed_config'];
        if (isObject(cfg)) filterRefs(cfg, routes, clusters);
      }
  } else if (typeUrl === TYPE_URLS.route) routeConfigClusters(r, clusters);
  else if (typeUrl === TYPE_URLS.cluster) {
    const type = str(r['type']);
    const eds = r['eds_cluster_config'];
    if (type === 'EDS' || (type === undefined && isObject(eds)))
      return { routes, clusters, eds: (isObject(eds) ? str(eds['service_name']) : undefined) || name };
  }
  return { routes: [...new Set(routes)].sort(), clusters: [...new Set(clusters)].sort() };
}

// ------------------------------------------------------------------------------------ snapshot

/** One type's memo entries: those the previous build used, those this build used, and whether it ran. */
interface Generation {
  previous: Map<string, EncodedResource>;
  current: Map<string, EncodedResource>;
  used: boolean;
}

/**
 * Encoded resources of the previous snapshot(s), keyed by type, name and translated content, so that a
 * rebuild re-encodes only what changed: each resource version is encoded once, whatever the number of
 * rebuilds. Generational per type: what a build of a type does not use is dropped at the next
 * `rotate()`; types a build did not encode at all (kept whole from the previous snapshot) keep theirs.
 */
export class EncodeMemo {
  private readonly generations = new Map<TypeUrl, Generation>();
  /** Translated objects seen before, with their key: a translation reused whole skips building the key. */
  private readonly byObject = new WeakMap<ProtoObject, { key: string; encoded: EncodedResource }>();
  private readonly virtualHosts = new WeakMap<ProtoObject, VirtualHostPart>();
  /** Resources encoded since construction (for benchmarks and tests). */
  encodes = 0;

  /** A virtual host encoded once per object. */
  virtualHost(vh: ProtoObject, root: protobuf.Root): VirtualHostPart {
    let part = this.virtualHosts.get(vh);
    if (part === undefined) {
      const bytes = ownBytes(encodeResource(root, VIRTUAL_HOST_TYPE, vh));
      const clusters: string[] = [];
      routeConfigClusters({ virtual_hosts: [vh] }, clusters);
      this.virtualHosts.set(vh, (part = { bytes, hash: shortHash(bytes), clusters }));
    }
    return part;
  }

  private generation(typeUrl: TypeUrl): Generation {
    let g = this.generations.get(typeUrl);
    if (!g) this.generations.set(typeUrl, (g = { previous: new Map(), current: new Map(), used: false }));
    return g;
  }

  /** Marks the type as encoded by this build (even with no resources, so its old entries go). */
  begin(typeUrl: TypeUrl): void {
    this.generation(typeUrl).used = true;
  }

  /**
   * The encoding of `resource` named `name`: the same object as before (translations are never changed
   * once made) is looked up by identity, anything else by its content.
   */
  encode(
    typeUrl: TypeUrl,
    name: string,
    resource: ProtoObject,
    make: (name: string, resource: ProtoObject) => EncodedResource,
  ): EncodedResource {
    const seen = this.byObject.get(resource);
    if (seen && seen.encoded.name === name) {
      // The common case of a rebuild (a translation reused whole): nothing is allocated.
      const g = this.generation(typeUrl);
      g.used = true;
      g.current.set(seen.key, seen.encoded);
      return seen.encoded;
    }
    // The content's hash, not its text, is kept: thousands of resources' text would be tens of MB.
    const key = `${name}\u0000${contentKey(JSON.stringify(resource))}`;
    const encoded = this.lookup(typeUrl, key, () => make(name, resource));
    this.byObject.set(resource, { key, encoded });
    return encoded;
  }

  lookup(typeUrl: TypeUrl, key: string, make: () => EncodedResource): EncodedResource {
    const g = this.generation(typeUrl);
    g.used = true;
    let r = g.current.get(key) ?? g.previous.get(key);
    if (r === undefined) {
      r = make();
      this.encodes++;
    }
    g.current.set(key, r);
    return r;
  }

  /** Call after each build: forgets what that build did not use of the types it encoded. */
  rotate(): void {
    for (const g of this.generations.values()) {
      if (!g.used) continue;
      g.previous = g.current;
      g.current = new Map();
      g.used = false;
    }
  }
}

function encodeType(
  root: protobuf.Root,
  typeUrl: TypeUrl,
  resources: ReadonlyMap<string, ProtoObject>,
  memo: EncodeMemo | undefined,
): TypeSnapshot {
  memo?.begin(typeUrl);
  const out = new Map<string, EncodedResource>();
  const make = (name: string, r: ProtoObject): EncodedResource => {
    const any = encodeAny(typeUrl, encodeResource(root, typeUrl, r));
    return { name, version: shortHash(any), any, refs: refsOf(typeUrl, r, name) };
  };
  for (const [name, r] of sortedEntries(resources)) {
    const parts = memo && typeUrl === TYPE_URLS.route ? routeParts(root, memo, name, r) : undefined;
    if (parts && memo) {
      // A route configuration is its virtual hosts' encodings one after the other: only changed ones are
      // encoded again, and the key is their hashes rather than the whole configuration as text.
      const key = `${name}\u0000${parts.map((p) => p.hash).join(',')}`;
      const makeJoined = (): EncodedResource => {
        const any = encodeAny(typeUrl, joinRouteConfiguration(name, parts));
        const clusters = [...new Set(parts.flatMap((p) => p.clusters))].sort();
        return { name, version: shortHash(any), any, refs: { routes: [], clusters } };
      };
      out.set(name, memo.lookup(typeUrl, key, makeJoined));
    } else out.set(name, memo ? memo.encode(typeUrl, name, r, make) : make(name, r));
  }
  const version = shortHash([...out.values()].map((r) => `${r.name}\u0000${r.version}`).join('\n') + typeUrl);
  return { typeUrl, version, resources: out };
}

/** The entries by name: the map itself when it is sorted already (translations give sorted maps). */
function sortedEntries<V>(m: ReadonlyMap<string, V>): Iterable<[string, V]> {
  let last: string | undefined;
  for (const k of m.keys()) {
    if (last !== undefined && !(last < k)) return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    last = k;
  }
  return m.entries();
}

/** One virtual host of a route configuration, encoded, with its hash and the clusters its routes name. */
export interface VirtualHostPart {
  bytes: Uint8Array;
  hash: string;
  clusters: readonly string[];
}

/**
 * The virtual hosts of a route configuration that holds only `name` and `virtual_hosts`, each encoded once
 * per object (translations are never changed once made); undefined for any other shape.
 */
function routeParts(
  root: protobuf.Root,
  memo: EncodeMemo,
  name: string,
  r: ProtoObject,
): VirtualHostPart[] | undefined {
  const keys = Object.keys(r);
  const hosts = r['virtual_hosts'];
  if (r['name'] !== name || !Array.isArray(hosts) || keys.length !== 2) return undefined;
  const out: VirtualHostPart[] = [];
  for (const vh of hosts as readonly ProtoValue[]) {
    if (!isObject(vh)) return undefined;
    out.push(memo.virtualHost(vh, root));
  }
  return out;
}

/** RouteConfiguration {name = 1, virtual_hosts = 2 (repeated)}: what encoding the whole message gives. */
export function joinRouteConfiguration(name: string, parts: readonly VirtualHostPart[]): Uint8Array {
  const w = protobuf.Writer.create().uint32(10).string(name);
  for (const p of parts) w.uint32(18).bytes(p.bytes);
  return w.finish();
}

/** The encoded cluster half of a snapshot (CDS and EDS), which a publish may keep from the previous one. */
export interface ClusterTypes {
  clusters: TypeSnapshot;
  endpoints: TypeSnapshot;
  notes: readonly string[];
}

/** Encodes clusters and load assignments (see encodeLoadAssignments). */
export function encodeClusters(
  translated: ClusterResources,
  root: protobuf.Root = envoyRoot(),
  memo?: EncodeMemo,
): ClusterTypes {
  const clusters = encodeClusterDefinitions(translated.clusters, root, memo);
  return {
    clusters,
    endpoints: encodeLoadAssignments(clusters, translated.endpoints, root, memo),
    notes: translated.notes,
  };
}

/**
 * Encodes the load assignments of encoded `clusters`. An EDS cluster without a ClusterLoadAssignment gets an
 * empty one (no endpoints): a client then fails its calls fast instead of waiting for EDS forever.
 */
export function encodeLoadAssignments(
  clusters: TypeSnapshot,
  translated: ReadonlyMap<string, ProtoObject>,
  root: protobuf.Root = envoyRoot(),
  memo?: EncodeMemo,
): TypeSnapshot {
  const endpoints = new Map(translated);
  for (const c of clusters.resources.values())
    if (c.refs.eds !== undefined && !endpoints.has(c.refs.eds))
      endpoints.set(c.refs.eds, { cluster_name: c.refs.eds, endpoints: [] });
  return encodeType(root, TYPE_URLS.endpoint, endpoints, memo);
}

/** Encodes cluster definitions alone (their load assignments come from encodeLoadAssignments). */
export function encodeClusterDefinitions(
  clusters: ReadonlyMap<string, ProtoObject>,
  root: protobuf.Root = envoyRoot(),
  memo?: EncodeMemo,
): TypeSnapshot {
  return encodeType(root, TYPE_URLS.cluster, clusters, memo);
}

/** The encoded listener half of a snapshot (LDS and RDS), which a publish may keep from the previous one. */
export interface RouteTypes {
  listeners: TypeSnapshot;
  routes: TypeSnapshot;
  notes: readonly string[];
}

export function encodeRoutes(
  translated: RouteResources,
  root: protobuf.Root = envoyRoot(),
  memo?: EncodeMemo,
): RouteTypes {
  return {
    listeners: encodeType(root, TYPE_URLS.listener, translated.listeners, memo),
    routes: encodeType(root, TYPE_URLS.route, translated.routes, memo),
    notes: translated.notes,
  };
}

/** A snapshot from its encoded halves. */
export function snapshotOf(clusterTypes: ClusterTypes, routeTypes: RouteTypes): Snapshot {
  const types = new Map<TypeUrl, TypeSnapshot>([
    [TYPE_URLS.cluster, clusterTypes.clusters],
    [TYPE_URLS.endpoint, clusterTypes.endpoints],
    [TYPE_URLS.listener, routeTypes.listeners],
    [TYPE_URLS.route, routeTypes.routes],
  ]);
  const version = shortHash(PUSH_ORDER.map((t) => types.get(t)?.version ?? '').join('/'));
  return { version, types, notes: [...new Set([...clusterTypes.notes, ...routeTypes.notes])].sort() };
}

/** Encodes each translated resource once. Versions are content hashes, so equal input gives equal versions. */
export function makeSnapshot(
  translated: EnvoyResources,
  root: protobuf.Root = envoyRoot(),
  memo?: EncodeMemo,
): Snapshot {
  return snapshotOf(encodeClusters(translated, root, memo), encodeRoutes(translated, root, memo));
}

/** An empty snapshot (every type present, no resources): a node group that is served nothing. */
export const emptySnapshot = (): Snapshot =>
  makeSnapshot({
    listeners: new Map(),
    routes: new Map(),
    clusters: new Map(),
    endpoints: new Map(),
    notes: [],
  });

/**
 * Problems that make a snapshot unservable, sorted; empty when it is consistent: a route named by
 * a listener's RDS, a cluster named by a route, weighted cluster, mirror or tcp_proxy, or a
 * ClusterLoadAssignment an EDS cluster waits for, that the snapshot does not hold; a missing type.
 */
export function checkConsistency(snapshot: Snapshot): string[] {
  const problems: string[] = [];
  for (const t of PUSH_ORDER) if (!snapshot.types.has(t)) problems.push(`type ${t} is missing`);
  const routes = namesOf(snapshot.types.get(TYPE_URLS.route));
  const clusters = namesOf(snapshot.types.get(TYPE_URLS.cluster));
  const endpoints = namesOf(snapshot.types.get(TYPE_URLS.endpoint));
  const check = (t: TypeUrl, what: string): void => {
    const ts = snapshot.types.get(t);
    if (!ts) return;
    // A type snapshot found consistent with these very name sets before (one kept from the previous build)
    // is consistent now: its resources are not looked at one by one again.
    const whole = consistentTypes.get(ts);
    if (whole && whole.routes === routes && whole.clusters === clusters && whole.endpoints === endpoints)
      return;
    const found = problems.length;
    for (const r of ts.resources.values()) {
      // Resources are immutable and so are the name sets (one per type snapshot object): a resource found
      // consistent with these very sets before is consistent now.
      const seen = consistent.get(r);
      if (
        seen &&
        (r.refs.routes.length === 0 || seen.routes === routes) &&
        (r.refs.clusters.length === 0 || seen.clusters === clusters) &&
        (r.refs.eds === undefined || seen.endpoints === endpoints)
      )
        continue;
      const before = problems.length;
      for (const n of r.refs.routes)
        if (!routes.has(n)) problems.push(`${what} ${r.name}: route configuration ${n} does not exist`);
      for (const n of r.refs.clusters)
        if (!clusters.has(n)) problems.push(`${what} ${r.name}: cluster ${n} does not exist`);
      if (r.refs.eds !== undefined && !endpoints.has(r.refs.eds))
        problems.push(`${what} ${r.name}: ClusterLoadAssignment ${r.refs.eds} does not exist`);
      if (problems.length === before) consistent.set(r, { routes, clusters, endpoints });
    }
    if (problems.length === found) consistentTypes.set(ts, { routes, clusters, endpoints });
  };
  check(TYPE_URLS.listener, 'listener');
  check(TYPE_URLS.route, 'route configuration');
  check(TYPE_URLS.cluster, 'cluster');
  return problems.sort();
}

/** The resource names of each type snapshot, made once per (immutable) type snapshot object. */
const nameSets = new WeakMap<TypeSnapshot, ReadonlySet<string>>();
const NO_NAMES: ReadonlySet<string> = new Set();

function namesOf(ts: TypeSnapshot | undefined): ReadonlySet<string> {
  if (!ts) return NO_NAMES;
  let names = nameSets.get(ts);
  if (!names) nameSets.set(ts, (names = new Set(ts.resources.keys())));
  return names;
}

interface NameSets {
  routes: ReadonlySet<string>;
  clusters: ReadonlySet<string>;
  endpoints: ReadonlySet<string>;
}

/** Resources found consistent, with the name sets they were checked against. */
const consistent = new WeakMap<EncodedResource, NameSets>();
/** Type snapshots whose every resource was found consistent, with the name sets they were checked against. */
const consistentTypes = new WeakMap<TypeSnapshot, NameSets>();
