// What every translation step reads: the model indexed by host, the client kind, and the notes
// collected along the way (settings a client kind cannot honour and what was sent instead).
import type {
  DestinationRuleModel,
  EndpointIndex,
  MeshModel,
  ServiceModel,
  VirtualServiceModel,
} from '../model.js';

/** Envoy as a sidecar, or a proxyless gRPC client (@grpc/grpc-js-xds and friends). */
export type ClientKind = 'sidecar' | 'proxyless';

export interface TranslateContext {
  kind: ClientKind;
  clusterDomain: string;
  services: ReadonlyMap<string, ServiceModel>;
  /** The model's Service list itself (the same object while a build keeps the previous Services). */
  serviceList: readonly ServiceModel[];
  destinationRules: ReadonlyMap<string, DestinationRuleModel>;
  /** The mesh-bound VirtualService of each Service FQDN. */
  virtualServices: ReadonlyMap<string, VirtualServiceModel>;
  endpoints: EndpointIndex;
  /** Human-readable notes; a set, so repeated causes are reported once. */
  notes: Set<string>;
}

export function makeContext(model: MeshModel, kind: ClientKind): TranslateContext {
  const virtualServices = new Map<string, VirtualServiceModel>();
  for (const vs of model.virtualServices) {
    if (!vs.meshBound) continue;
    // The model gives each host to one VirtualService; the first in precedence order wins regardless.
    for (const h of vs.hosts) if (!virtualServices.has(h)) virtualServices.set(h, vs);
  }
  return {
    kind,
    clusterDomain: model.clusterDomain,
    services: indexed(model.services, 'by hostname', (s) => s.hostname),
    serviceList: model.services,
    destinationRules: indexed(model.destinationRules, 'by host', (d) => d.host),
    virtualServices,
    endpoints: model.endpoints,
    notes: new Set(),
  };
}

/** Values derived from one list object alone, by what they are (lists of a model are never changed). */
const derivedValues = new WeakMap<readonly object[], Map<string, unknown>>();

/**
 * The value `what` derived from `list` alone, made once per list object: a build that keeps the previous
 * Services keeps what was derived from them (indexes, listener layouts).
 */
export function derived<T>(list: readonly object[], what: string, make: () => T): T {
  let values = derivedValues.get(list);
  if (!values) derivedValues.set(list, (values = new Map<string, unknown>()));
  if (values.has(what)) return values.get(what) as T;
  const value = make();
  values.set(what, value);
  return value;
}

/** `list` indexed by `key`, made once per list object; `what` names the index among the list's derived values. */
function indexed<T extends object>(
  list: readonly T[],
  what: string,
  key: (item: T) => string,
): ReadonlyMap<string, T> {
  return derived(list, what, () => new Map(list.map((item) => [key(item), item])));
}
