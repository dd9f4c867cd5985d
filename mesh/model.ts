// The mesh model: services, endpoints, VirtualServices and DestinationRules as plain data, built
// purely from Kubernetes objects. Objects with problems stay out (or keep their last good version).
import type { DestinationRuleSpec, VirtualServiceSpec } from '../crds/schema/networking.js';
import { DEFAULT_CLUSTER_DOMAIN, resolveHost, serviceFqdn } from './hosts.js';
import type { KubeEndpointSlice, KubeNetworkingObject, KubeNode, KubePod, KubeService } from './kube.js';
import { objectKey, REGION_LABEL, SERVICE_NAME_LABEL, timestampText, ZONE_LABEL } from './kube.js';
import type { Checked, Problem } from './validate/networking.js';
import { checkDestinationRuleSpec, checkVirtualServiceSpec, problem } from './validate/networking.js';

export type { Problem, ProblemReason } from './validate/networking.js';

export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

/** One address behind a Service port, with the labels of its pod (for DestinationRule subsets). */
export interface Endpoint {
  address: string;
  /** The pod port (the EndpointSlice's resolution of the Service port's targetPort). */
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** Empty when the endpoint has no pod (targetRef) or the pod is not known. */
  labels: Readonly<Record<string, string>>;
  podName?: string;
  locality: Locality;
}

export interface ServicePortModel {
  /** '' for the single unnamed port of a Service. */
  name: string;
  port: number;
  targetPort: number | string;
  /** TCP, UDP or SCTP. */
  protocol: string;
  appProtocol?: string;
}

/**
 * The endpoints behind each Service port, by endpointsKey(hostname, port), each list sorted by address then
 * port. Kept apart from the Services: endpoints change far more often, and a change to them alone leaves
 * Services, routes and clusters as they were. A list equal to the previous build's is that same array, and an
 * index equal to the previous one is that index.
 */
export type EndpointIndex = ReadonlyMap<string, readonly Endpoint[]>;

export const endpointsKey = (hostname: string, port: ServicePortModel): string =>
  `${hostname}|${port.port}|${port.protocol}`;

const NO_ENDPOINTS: readonly Endpoint[] = [];

/** The endpoints behind a Service port (none when the index has no entry). */
export const endpointsOf = (
  index: EndpointIndex,
  hostname: string,
  port: ServicePortModel,
): readonly Endpoint[] => index.get(endpointsKey(hostname, port)) ?? NO_ENDPOINTS;

export interface ServiceModel {
  namespace: string;
  name: string;
  /** FQDN, `<name>.<namespace>.svc.<clusterDomain>`. */
  hostname: string;
  /** Absent for headless Services. */
  clusterIP?: string;
  /** Sorted by port number. */
  ports: ServicePortModel[];
}

interface NetworkingModelBase {
  namespace: string;
  name: string;
  generation: number;
  /** RFC 3339; older objects win host conflicts. */
  creationTimestamp: string;
}

export interface VirtualServiceModel extends NetworkingModelBase {
  spec: VirtualServiceSpec;
  /** Applies to sidecars and proxyless clients: `gateways` absent or naming `mesh`. */
  meshBound: boolean;
  /** FQDNs of the Services whose traffic it configures (mesh-bound only), sorted. */
  hosts: string[];
}

export interface DestinationRuleModel extends NetworkingModelBase {
  spec: DestinationRuleSpec;
  /** FQDN of the Service it configures. */
  host: string;
}

export interface MeshModel {
  clusterDomain: string;
  /** Sorted by hostname. */
  services: ServiceModel[];
  /** Sorted by precedence: creationTimestamp, then namespace/name. */
  virtualServices: VirtualServiceModel[];
  destinationRules: DestinationRuleModel[];
  endpoints: EndpointIndex;
}

export interface MeshInputs {
  services: readonly KubeService[];
  endpointSlices: readonly KubeEndpointSlice[];
  pods: readonly KubePod[];
  /** Optional: regions of endpoints come from their Node's topology.kubernetes.io/region label. */
  nodes?: readonly KubeNode[];
  virtualServices: readonly KubeNetworkingObject[];
  destinationRules: readonly KubeNetworkingObject[];
}

export type NetworkingKind = 'VirtualService' | 'DestinationRule';

/** The problems of the current version of one networking object. */
export interface ObjectProblems {
  kind: NetworkingKind;
  namespace: string;
  name: string;
  generation: number;
  problems: Problem[];
  /** Generation of the last good version still served in its place; absent when none is. */
  servedGeneration?: number;
}

/**
 * The last good version of each networking object, keyed `<kind>/<namespace>/<name>`. The caller
 * keeps the map a build returned and passes it to the next build, which serves the last good
 * version of an object whose current version has problems (never a half-applied one).
 */
export type LastGood = ReadonlyMap<string, KubeNetworkingObject>;

export interface BuildOptions {
  lastGood?: LastGood;
  clusterDomain?: string;
  /**
   * Spec checks kept across builds, by spec object: only for inputs whose objects are replaced, never
   * changed in place, when they change (informers' are).
   */
  checks?: SpecChecks;
  /**
   * The previous build's `base`, when none of the inputs it reads (Services and DestinationRules) changed:
   * the build then takes its Services and DestinationRules as they are.
   */
  base?: ModelBase;
  /**
   * The previous build's endpoints. With `base`, and when no EndpointSlice, Pod or Node changed either
   * (`endpointsCurrent`), they are taken as they are; otherwise each port's list equal to its previous one
   * is that previous array, so what is made from a list can be kept by its identity.
   */
  endpoints?: EndpointIndex;
  endpointsCurrent?: boolean;
}

/** Results of the (pure) spec checks by spec object, for builds whose inputs are immutable objects. */
export class SpecChecks {
  readonly virtualServices = new WeakMap<object, Checked<VirtualServiceSpec>>();
  readonly destinationRules = new WeakMap<object, Checked<DestinationRuleSpec>>();
  /**
   * Accepted VirtualService models by input object, with the checked spec and the registry (Services and
   * DestinationRules) they were accepted against: while both are the same objects, only the claims on its
   * hosts (conflicts with VirtualServices of higher precedence) can change the outcome.
   */
  readonly acceptedVirtualServices = new WeakMap<
    object,
    { spec: VirtualServiceSpec; registry: object; model: VirtualServiceModel }
  >();
}

/** `check` through `cache` for object specs (a missing or non-object spec is checked every time). */
function cached<T>(cache: WeakMap<object, Checked<T>> | undefined, check: (raw: unknown) => Checked<T>) {
  if (!cache) return check;
  return (raw: unknown): Checked<T> => {
    if (typeof raw !== 'object' || raw === null) return check(raw);
    let r = cache.get(raw);
    if (r === undefined) cache.set(raw, (r = check(raw)));
    return r;
  };
}

export interface BuildResult {
  model: MeshModel;
  /** Objects whose current version has problems, sorted by kind, namespace, name. */
  problems: ObjectProblems[];
  /** To pass to the next build. Deleted objects are dropped from it. */
  lastGood: LastGood;
  /** What the next build may reuse while its inputs stay the same. */
  base: ModelBase;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ------------------------------------------------------------------------------------ services

function buildServices(inputs: MeshInputs, clusterDomain: string): ServiceModel[] {
  const out: ServiceModel[] = [];
  for (const svc of inputs.services) {
    const name = svc.metadata?.name;
    const namespace = svc.metadata?.namespace;
    if (!name || !namespace || svc.spec?.type === 'ExternalName') continue;
    const clusterIP = svc.spec?.clusterIP;
    const ports: ServicePortModel[] = (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    ports.sort((a, b) => a.port - b.port || compare(a.protocol, b.protocol));
    out.push({
      namespace,
      name,
      hostname: serviceFqdn(name, namespace, clusterDomain),
      ...(clusterIP && clusterIP !== 'None' ? { clusterIP } : {}),
      ports,
    });
  }
  return out.sort((a, b) => compare(a.hostname, b.hostname));
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

const sameEndpoint = (a: Endpoint, b: Endpoint): boolean =>
  a.address === b.address &&
  a.port === b.port &&
  a.ready === b.ready &&
  a.serving === b.serving &&
  a.terminating === b.terminating &&
  a.podName === b.podName &&
  a.locality.region === b.locality.region &&
  a.locality.zone === b.locality.zone &&
  a.locality.subZone === b.locality.subZone &&
  sameLabels(a.labels, b.labels);

const sameEndpoints = (a: readonly Endpoint[], b: readonly Endpoint[]): boolean =>
  a.length === b.length && a.every((e, i) => sameEndpoint(e, b[i] as Endpoint));

/**
 * The endpoints of every Service port, from EndpointSlices (dedup by address:port, a ready copy wins), with
 * the labels of their pods and the region and zone of their nodes. A list equal to its entry in `previous`
 * is that previous array; an index equal to `previous` is `previous`.
 */
function buildEndpoints(
  inputs: MeshInputs,
  services: readonly ServiceModel[],
  previous: EndpointIndex | undefined,
): EndpointIndex {
  const pods = new Map<string, KubePod>();
  for (const p of inputs.pods) pods.set(objectKey(p.metadata), p);
  const nodeRegion = new Map<string, string>();
  const nodeZone = new Map<string, string>();
  for (const n of inputs.nodes ?? []) {
    const region = n.metadata?.labels?.[REGION_LABEL];
    const zone = n.metadata?.labels?.[ZONE_LABEL];
    if (n.metadata?.name && region) nodeRegion.set(n.metadata.name, region);
    if (n.metadata?.name && zone) nodeZone.set(n.metadata.name, zone);
  }
  const slicesByService = new Map<string, KubeEndpointSlice[]>();
  for (const s of inputs.endpointSlices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || (s.addressType !== undefined && s.addressType !== 'IPv4' && s.addressType !== 'IPv6'))
      continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = slicesByService.get(key);
    if (list) list.push(s);
    else slicesByService.set(key, [s]);
  }

  const out = new Map<string, readonly Endpoint[]>();
  let unchanged = previous !== undefined;
  for (const svc of services) {
    const { namespace } = svc;
    const slices = slicesByService.get(`${namespace}/${svc.name}`) ?? [];
    for (const p of svc.ports) {
      // Endpoints of this port across slices, deduplicated by address:port (a ready copy wins).
      const byAddress = new Map<string, Endpoint>();
      for (const slice of slices) {
        const sp = (slice.ports ?? []).find(
          (x) => (x.name ?? '') === p.name && (x.protocol ?? 'TCP') === p.protocol,
        );
        if (!sp || typeof sp.port !== 'number') continue;
        for (const ep of slice.endpoints ?? []) {
          const ready = ep.conditions?.ready ?? true;
          const serving = ep.conditions?.serving ?? ready;
          const terminating = ep.conditions?.terminating ?? false;
          const ref = ep.targetRef;
          const pod =
            ref?.kind === 'Pod' && ref.name
              ? pods.get(`${ref.namespace ?? namespace}/${ref.name}`)
              : undefined;
          const node = ep.nodeName ?? undefined;
          const locality: Locality = {
            region: (node && nodeRegion.get(node)) || '',
            zone: ep.zone || (node && nodeZone.get(node)) || '',
            subZone: '',
          };
          for (const address of ep.addresses ?? []) {
            const endpoint: Endpoint = {
              address,
              port: sp.port,
              ready,
              serving,
              terminating,
              labels: { ...(pod?.metadata?.labels ?? {}) },
              ...(pod?.metadata?.name ? { podName: pod.metadata.name } : {}),
              locality,
            };
            const key = `${address}:${sp.port}`;
            const seen = byAddress.get(key);
            if (!seen || (!seen.ready && ready)) byAddress.set(key, endpoint);
          }
        }
      }
      if (byAddress.size === 0) continue;
      const endpoints = [...byAddress.values()].sort(
        (a, b) => compare(a.address, b.address) || a.port - b.port,
      );
      const key = endpointsKey(svc.hostname, p);
      const before = previous?.get(key);
      const same = before !== undefined && sameEndpoints(before, endpoints);
      out.set(key, same ? before : endpoints);
      unchanged &&= same;
    }
  }
  // Nothing differs: the previous index itself, so a caller sees "no endpoint changed" by identity.
  return unchanged && previous && previous.size === out.size ? previous : out;
}

// ------------------------------------------------------------------------- networking objects

const createdMs = (o: KubeNetworkingObject): number => {
  const ms = Date.parse(timestampText(o.metadata?.creationTimestamp));
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
};

/** Older first (it keeps a contested host), then by namespace/name; each timestamp parsed once. */
function byPrecedence(objects: readonly KubeNetworkingObject[]): KubeNetworkingObject[] {
  return objects
    .map((obj) => ({ obj, ms: createdMs(obj), key: objectKey(obj.metadata) }))
    .sort((a, b) => a.ms - b.ms || compare(a.key, b.key))
    .map((x) => x.obj);
}

export const lastGoodKey = (kind: NetworkingKind, obj: KubeNetworkingObject): string =>
  `${kind}/${objectKey(obj.metadata)}`;

const isMeshBound = (spec: VirtualServiceSpec): boolean =>
  spec.gateways === undefined || spec.gateways.length === 0 || spec.gateways.includes('mesh');

/** Services by FQDN and the accepted DestinationRule of each host: what reference checks need. */
interface Registry {
  clusterDomain: string;
  services: Map<string, ServiceModel>;
  drByHost: Map<string, DestinationRuleModel>;
}

function destinationRuleReferences(
  spec: DestinationRuleSpec,
  namespace: string,
  reg: Registry,
  claimedBy: Map<string, string>,
): { problems: Problem[]; host: string } {
  const host = resolveHost(spec.host, namespace, reg.clusterDomain);
  if (host === undefined)
    return {
      problems: [problem('UnsupportedField', 'spec.host', 'is a wildcard host, which is not supported')],
      host: '',
    };
  const svc = reg.services.get(host);
  if (!svc)
    return {
      problems: [problem('UnknownHost', 'spec.host', `names ${spec.host}: no Service ${host}`)],
      host,
    };
  const problems: Problem[] = [];
  const owner = claimedBy.get(host);
  if (owner)
    problems.push(
      problem('Conflict', 'spec.host', `${host} is already configured by DestinationRule ${owner}`),
    );
  const portLevel = [
    ...(spec.trafficPolicy?.portLevelSettings ?? []).map((pl, i) => ({
      pl,
      path: `spec.trafficPolicy.portLevelSettings[${i}]`,
    })),
    ...(spec.subsets ?? []).flatMap((s, k) =>
      (s.trafficPolicy?.portLevelSettings ?? []).map((pl, i) => ({
        pl,
        path: `spec.subsets[${k}].trafficPolicy.portLevelSettings[${i}]`,
      })),
    ),
  ];
  for (const { pl, path } of portLevel) {
    const n = pl.port?.number;
    if (n !== undefined && !svc.ports.some((p) => p.port === n))
      problems.push(problem('UnknownPort', `${path}.port.number`, `is ${n}, not a port of Service ${host}`));
  }
  return { problems, host };
}

type Destination = { host: string; subset?: string | undefined; port?: { number: number } | undefined };

/**
 * The port of `dest` that traffic arriving on `listenerPort` goes to: the explicit one; else the
 * Service's only port; else the port with the listener's number. Only TCP ports count (the mesh
 * carries no UDP or SCTP). Undefined when none applies.
 */
export function destinationPort(
  dest: ServiceModel,
  explicit: number | undefined,
  listenerPort: number,
): number | undefined {
  const ports = dest.ports.filter((p) => p.protocol === 'TCP');
  if (explicit !== undefined) return ports.some((p) => p.port === explicit) ? explicit : undefined;
  if (ports.length === 1) return ports[0]?.port;
  return ports.some((p) => p.port === listenerPort) ? listenerPort : undefined;
}

function virtualServiceReferences(
  spec: VirtualServiceSpec,
  namespace: string,
  reg: Registry,
  claimedBy: Map<string, string>,
): { problems: Problem[]; hosts: string[] } {
  const problems: Problem[] = [];
  const meshBound = isMeshBound(spec);
  const hosts: string[] = [];
  if (meshBound) {
    if (!spec.hosts?.length)
      problems.push(problem('Invalid', 'spec.hosts', 'is empty: a mesh VirtualService needs a host'));
    spec.hosts?.forEach((h, i) => {
      const path = `spec.hosts[${i}]`;
      const fqdn = resolveHost(h, namespace, reg.clusterDomain);
      if (fqdn === undefined)
        problems.push(problem('UnsupportedField', path, `is a wildcard host (${h}), which is not supported`));
      else if (!reg.services.has(fqdn))
        problems.push(problem('UnknownHost', path, `names ${h}: no Service ${fqdn}`));
      else {
        const owner = claimedBy.get(fqdn);
        if (owner)
          problems.push(
            problem('Conflict', path, `${fqdn} is already configured by VirtualService ${owner}`),
          );
        if (!hosts.includes(fqdn)) hosts.push(fqdn);
      }
    });
  }
  // Ports the routes of this VirtualService receive traffic on (for implicit destination ports).
  const hostPorts = hosts.flatMap(
    (h) =>
      reg.services
        .get(h)
        ?.ports.filter((p) => p.protocol === 'TCP')
        .map((p) => p.port) ?? [],
  );

  const checkDestination = (d: Destination, path: string, listenerPorts: number[]): void => {
    const fqdn = resolveHost(d.host, namespace, reg.clusterDomain);
    const svc = fqdn === undefined ? undefined : reg.services.get(fqdn);
    if (!svc || fqdn === undefined) {
      problems.push(problem('UnknownHost', `${path}.host`, `names ${d.host}: no Service ${fqdn ?? d.host}`));
      return;
    }
    if (d.port !== undefined) {
      if (destinationPort(svc, d.port.number, 0) === undefined)
        problems.push(
          problem(
            'UnknownPort',
            `${path}.port.number`,
            `is ${d.port.number}, not a TCP port of Service ${fqdn}`,
          ),
        );
    } else {
      const tcpPorts = svc.ports.filter((p) => p.protocol === 'TCP').length;
      const missing = listenerPorts.find((p) => destinationPort(svc, undefined, p) === undefined);
      const why =
        tcpPorts === 0
          ? 'has no TCP port'
          : tcpPorts === 1
            ? undefined
            : missing !== undefined
              ? `has several ports and none is ${missing}`
              : listenerPorts.length === 0
                ? 'has several ports'
                : undefined;
      if (why !== undefined)
        problems.push(problem('UnknownPort', `${path}.port`, `is required: Service ${fqdn} ${why}`));
    }
    if (d.subset !== undefined) {
      const dr = reg.drByHost.get(fqdn);
      if (!dr?.spec.subsets?.some((s) => s.name === d.subset))
        problems.push(
          problem(
            'UnknownSubset',
            `${path}.subset`,
            `names ${d.subset}, ${dr ? `not a subset of DestinationRule ${dr.namespace}/${dr.name}` : `but no DestinationRule configures ${fqdn}`}`,
          ),
        );
    }
  };

  spec.http?.forEach((http, i) => {
    const base = `spec.http[${i}]`;
    const matchPorts = http.match?.map((m) => m.port);
    const ports =
      matchPorts && matchPorts.length > 0 && matchPorts.every((p) => p !== undefined)
        ? hostPorts.filter((p) => matchPorts.includes(p))
        : hostPorts;
    http.route?.forEach((r, k) => checkDestination(r.destination, `${base}.route[${k}].destination`, ports));
    if (http.mirror) checkDestination(http.mirror, `${base}.mirror`, ports);
    http.mirrors?.forEach((m, k) =>
      checkDestination(m.destination, `${base}.mirrors[${k}].destination`, ports),
    );
  });
  spec.tcp?.forEach((tcp, i) => {
    const matchPorts = tcp.match?.map((m) => m.port);
    const ports =
      matchPorts && matchPorts.length > 0 && matchPorts.every((p) => p !== undefined)
        ? hostPorts.filter((p) => matchPorts.includes(p))
        : hostPorts;
    tcp.route?.forEach((r, k) =>
      checkDestination(r.destination, `spec.tcp[${i}].route[${k}].destination`, ports),
    );
  });
  return { problems, hosts: hosts.sort(compare) };
}

/**
 * Accepts, for each object in precedence order, its current version when it has no problems, else
 * its last good version when that still passes the reference checks, else nothing.
 */
function acceptObjects<T, M extends NetworkingModelBase>(
  kind: NetworkingKind,
  objects: readonly KubeNetworkingObject[],
  check: (raw: unknown) => Checked<T>,
  references: (spec: T, obj: KubeNetworkingObject) => { problems: Problem[]; model?: M },
  previous: LastGood,
  lastGood: Map<string, KubeNetworkingObject>,
  problemsOut: ObjectProblems[],
): M[] {
  const accepted: M[] = [];
  for (const obj of byPrecedence(objects)) {
    const meta = obj.metadata;
    if (!meta?.name || !meta.namespace) continue;
    const key = lastGoodKey(kind, obj);
    const evaluate = (o: KubeNetworkingObject): { problems: Problem[]; model?: M } => {
      const checked = check(o.spec);
      if (!checked.ok) return { problems: checked.problems };
      return references(checked.spec, o);
    };
    const current = evaluate(obj);
    if (current.problems.length === 0 && current.model) {
      accepted.push(current.model);
      lastGood.set(key, obj);
      continue;
    }
    const prev = previous.get(key);
    let served: M | undefined;
    if (prev) {
      // Still the last good version, even when the current objects make it unusable for now.
      lastGood.set(key, prev);
      if (prev !== obj) {
        const r = evaluate(prev);
        if (r.problems.length === 0 && r.model) served = r.model;
      }
    }
    if (served) accepted.push(served);
    problemsOut.push({
      kind,
      namespace: meta.namespace,
      name: meta.name,
      generation: meta.generation ?? 0,
      problems: current.problems,
      ...(served ? { servedGeneration: served.generation } : {}),
    });
  }
  return accepted;
}

const base = (o: KubeNetworkingObject): NetworkingModelBase => ({
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
  generation: o.metadata?.generation ?? 0,
  creationTimestamp: timestampText(o.metadata?.creationTimestamp),
});

/**
 * The part of a build that reads neither VirtualServices nor endpoints: Services and DestinationRules.
 * A build may take it from the previous build when none of its inputs changed (see BuildOptions.base).
 */
export interface ModelBase {
  readonly clusterDomain: string;
  readonly services: ServiceModel[];
  readonly destinationRules: DestinationRuleModel[];
  readonly registry: Readonly<Registry>;
  readonly problems: readonly ObjectProblems[];
  readonly lastGood: LastGood;
}

function buildBase(
  inputs: MeshInputs,
  clusterDomain: string,
  previous: LastGood,
  checks: SpecChecks | undefined,
): ModelBase {
  const services = buildServices(inputs, clusterDomain);
  const reg: Registry = {
    clusterDomain,
    services: new Map(services.map((s) => [s.hostname, s])),
    drByHost: new Map(),
  };
  const lastGood = new Map<string, KubeNetworkingObject>();
  const problems: ObjectProblems[] = [];
  const drClaims = new Map<string, string>();
  const destinationRules = acceptObjects<DestinationRuleSpec, DestinationRuleModel>(
    'DestinationRule',
    inputs.destinationRules,
    cached(checks?.destinationRules, checkDestinationRuleSpec),
    (spec, o) => {
      const r = destinationRuleReferences(spec, o.metadata?.namespace ?? '', reg, drClaims);
      if (r.problems.length) return { problems: r.problems };
      drClaims.set(r.host, objectKey(o.metadata));
      const model: DestinationRuleModel = { ...base(o), spec, host: r.host };
      reg.drByHost.set(r.host, model);
      return { problems: [], model };
    },
    previous,
    lastGood,
    problems,
  );
  return { clusterDomain, services, destinationRules, registry: reg, problems, lastGood };
}

/**
 * Builds the mesh model. Pure: same inputs (in any order) and options, same result. Reference
 * checks of VirtualServices see the DestinationRules accepted in this build.
 */
export function buildModel(inputs: MeshInputs, options: BuildOptions = {}): BuildResult {
  const clusterDomain = options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const previous = options.lastGood ?? new Map<string, KubeNetworkingObject>();
  const keptBase = options.base?.clusterDomain === clusterDomain;
  const modelBase =
    keptBase && options.base ? options.base : buildBase(inputs, clusterDomain, previous, options.checks);
  const endpoints =
    keptBase && options.endpointsCurrent && options.endpoints
      ? options.endpoints
      : buildEndpoints(inputs, modelBase.services, options.endpoints);
  const reg = modelBase.registry;
  const lastGood = new Map<string, KubeNetworkingObject>(modelBase.lastGood);
  const problems: ObjectProblems[] = [...modelBase.problems];

  const vsClaims = new Map<string, string>();
  const virtualServices = acceptObjects<VirtualServiceSpec, VirtualServiceModel>(
    'VirtualService',
    inputs.virtualServices,
    cached(options.checks?.virtualServices, checkVirtualServiceSpec),
    (spec, o) => {
      const accepted = options.checks?.acceptedVirtualServices;
      const kept = accepted?.get(o);
      // Accepted before against the same registry: still accepted unless a host is claimed now.
      if (
        kept &&
        kept.spec === spec &&
        kept.registry === reg &&
        kept.model.hosts.every((h) => !vsClaims.has(h))
      ) {
        for (const h of kept.model.hosts) vsClaims.set(h, objectKey(o.metadata));
        return { problems: [], model: kept.model };
      }
      const r = virtualServiceReferences(spec, o.metadata?.namespace ?? '', reg, vsClaims);
      if (r.problems.length) return { problems: r.problems };
      for (const h of r.hosts) vsClaims.set(h, objectKey(o.metadata));
      const model: VirtualServiceModel = { ...base(o), spec, meshBound: isMeshBound(spec), hosts: r.hosts };
      accepted?.set(o, { spec, registry: reg, model });
      return { problems: [], model };
    },
    previous,
    lastGood,
    problems,
  );

  problems.sort(
    (a, b) => compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name),
  );
  return {
    model: {
      clusterDomain,
      services: modelBase.services,
      virtualServices,
      destinationRules: modelBase.destinationRules,
      endpoints,
    },
    problems,
    lastGood,
    base: modelBase,
  };
}
