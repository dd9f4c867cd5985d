// EndpointSlice and Endpoints controller cores: Service + pods + nodes → the slices and core Endpoints
// kube-controller-manager v1.26 maintains. Pure, except TriggerTimes (what each Service's last sync saw).
import { isDeepStrictEqual } from 'node:util';
import type { JsonObject } from '../types.js';
import { clone } from '../types.js';
import {
  annotationsAt,
  canonicalJson,
  controlledBy,
  controllerRef,
  isDeleting,
  labelsAt,
  listAt,
  mapSelectorMatches,
  metaAt,
  mutObj,
  nameAt,
  namespaceAt,
  numAt,
  sameStringMap,
  specAt,
  strAt,
  stringMap,
  timeMs,
  uidAt,
} from './objects.js';
import { belongsInEndpoints, isReady, podIps, readySinceMs } from './pods.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const RESERVED_SLICE_LABELS = new Set([SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]);
export const MAX_ENDPOINTS_PER_SLICE = 100;

// ------------------------------------------------------------------------------- Services and pods

export const serviceSelector = (svc: JsonObject): Record<string, string> => stringMap(specAt(svc).selector);

/** Whether the endpoint controllers manage this Service: it has a selector and is not ExternalName. */
export const managesService = (svc: JsonObject): boolean =>
  specAt(svc).type !== 'ExternalName' && Object.keys(serviceSelector(svc)).length > 0;

/** Pods (of the Service's namespace) its selector picks. */
export const selectedPods = (svc: JsonObject, pods: JsonObject[]): JsonObject[] =>
  pods.filter((p) => mapSelectorMatches(serviceSelector(svc), labelsAt(p)));

const hasClusterIp = (svc: JsonObject): boolean => {
  const ip = strAt(specAt(svc).clusterIP);
  return ip !== '' && ip !== 'None';
};

const isIpv6 = (ip: string): boolean => ip.includes(':');

/** The address types a Service's endpoints come in, from spec.ipFamilies. */
export function addressTypes(svc: JsonObject): string[] {
  const fams = (Array.isArray(specAt(svc).ipFamilies) ? (specAt(svc).ipFamilies as unknown[]) : []).filter(
    (f): f is string => f === 'IPv4' || f === 'IPv6',
  );
  return fams.length > 0 ? fams : ['IPv4'];
}

/** The pod port a Service port targets: a number as is, a name looked up among container ports. */
export function findPort(pod: JsonObject, servicePort: JsonObject): number | undefined {
  const target = servicePort.targetPort;
  if (typeof target === 'number') return target;
  if (typeof target !== 'string' || target === '') return numAt(servicePort.port);
  const protocol = strAt(servicePort.protocol) || 'TCP';
  for (const c of listAt(specAt(pod).containers)) {
    for (const p of listAt(c.ports)) {
      if (p.name === target && (strAt(p.protocol) || 'TCP') === protocol) return numAt(p.containerPort);
    }
  }
  return undefined;
}

const shouldSetHostname = (pod: JsonObject, svc: JsonObject): boolean =>
  strAt(specAt(pod).hostname) !== '' &&
  strAt(specAt(pod).subdomain) === nameAt(svc) &&
  namespaceAt(pod) === namespaceAt(svc);

const podRef = (pod: JsonObject): JsonObject => ({
  kind: 'Pod',
  namespace: namespaceAt(pod),
  name: nameAt(pod),
  uid: uidAt(pod),
});

const byName = (pods: JsonObject[]): JsonObject[] =>
  [...pods].sort((a, b) => (nameAt(a) < nameAt(b) ? -1 : nameAt(a) > nameAt(b) ? 1 : 0));

// ------------------------------------------------------------------------------- trigger times

/** RFC 3339 with as many fractional digits as needed (Go's RFC3339Nano). */
export const rfc3339Nano = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));

/**
 * Per Service, the pod Ready transition times and the Service creation time seen by the last sync.
 * `changed` reports the earliest of those that moved since then — the value of the
 * last-change-trigger-time annotation — or undefined when nothing moved (the annotation is dropped).
 */
export class TriggerTimes {
  private readonly seen = new Map<string, { pods: Map<string, number>; service: number }>();

  changed(svc: JsonObject, pods: JsonObject[]): string | undefined {
    const key = `${namespaceAt(svc)}/${nameAt(svc)}`;
    const before = this.seen.get(key);
    const next = { pods: new Map<string, number>(), service: timeMs(metaAt(svc).creationTimestamp) ?? 0 };
    let min: number | undefined;
    const consider = (t: number): void => {
      min = min === undefined ? t : Math.min(min, t);
    };
    for (const pod of pods) {
      const t = readySinceMs(pod);
      if (t === undefined) continue;
      next.pods.set(nameAt(pod), t);
      if (t > (before?.pods.get(nameAt(pod)) ?? Number.NEGATIVE_INFINITY)) consider(t);
    }
    if (next.service > (before?.service ?? Number.NEGATIVE_INFINITY) && next.service > 0)
      consider(next.service);
    this.seen.set(key, next);
    return min === undefined ? undefined : rfc3339Nano(min);
  }

  forget(namespace: string, name: string): void {
    this.seen.delete(`${namespace}/${name}`);
  }
}

function withTriggerTime(obj: JsonObject, trigger: string | undefined): void {
  const meta = mutObj(obj, 'metadata');
  const ann = annotationsAt(obj);
  if (trigger !== undefined) ann[TRIGGER_TIME_ANNOTATION] = trigger;
  else delete ann[TRIGGER_TIME_ANNOTATION];
  if (Object.keys(ann).length > 0) meta.annotations = ann;
  else delete meta.annotations;
}

// ------------------------------------------------------------------------------- EndpointSlices

export interface SliceGroup {
  ports: JsonObject[];
  endpoints: JsonObject[];
}

export interface DesiredSlices {
  /** address type → port-set key → the endpoints with those ports. */
  groups: Map<string, Map<string, SliceGroup>>;
  /** Some pods were left out because their Node does not exist (kube retries later). */
  missingNodes: boolean;
}

const portKey = (ports: JsonObject[]): string => canonicalJson(ports.map(canonicalJson).sort());

/** A pod's ports as an EndpointSlice lists them: one per Service port that resolves on the pod. */
function slicePorts(svc: JsonObject, pod: JsonObject): JsonObject[] {
  const ports = listAt(specAt(svc).ports);
  const out: JsonObject[] = [];
  if (ports.length === 0 && specAt(svc).clusterIP === 'None') return out;
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: JsonObject = { name: strAt(sp.name), protocol: strAt(sp.protocol) || 'TCP', port };
    if (typeof sp.appProtocol === 'string') p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

function sliceEndpoint(
  svc: JsonObject,
  pod: JsonObject,
  node: JsonObject | undefined,
  addressType: string,
): JsonObject {
  const publish = specAt(svc).publishNotReadyAddresses === true;
  const serving = publish || isReady(pod);
  const terminating = isDeleting(pod);
  const ep: JsonObject = {
    addresses: podIps(pod).filter((ip) => isIpv6(ip) === (addressType === 'IPv6')),
    conditions: { ready: publish || (serving && !terminating), serving, terminating },
  };
  if (shouldSetHostname(pod, svc)) ep.hostname = strAt(specAt(pod).hostname);
  ep.targetRef = podRef(pod);
  const nodeName = strAt(specAt(pod).nodeName);
  if (nodeName) ep.nodeName = nodeName;
  const zone = node ? labelsAt(node)[ZONE_LABEL] : undefined;
  if (zone) ep.zone = zone;
  return ep;
}

/** The endpoints a Service should publish, grouped by address type and port set. */
export function desiredSlices(
  svc: JsonObject,
  pods: JsonObject[],
  nodeNamed: (name: string) => JsonObject | undefined,
): DesiredSlices {
  const out: DesiredSlices = { groups: new Map(), missingNodes: false };
  const publish = specAt(svc).publishNotReadyAddresses === true;
  for (const type of addressTypes(svc)) {
    const groups = new Map<string, SliceGroup>();
    out.groups.set(type, groups);
    for (const pod of byName(pods)) {
      if (!belongsInEndpoints(pod, true)) continue;
      const nodeName = strAt(specAt(pod).nodeName);
      const node = nodeName ? nodeNamed(nodeName) : undefined;
      if (!node && !publish) {
        out.missingNodes = true;
        continue;
      }
      const ep = sliceEndpoint(svc, pod, node, type);
      if ((ep.addresses as string[]).length === 0) continue;
      const ports = slicePorts(svc, pod);
      const key = portKey(ports);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { ports, endpoints: [] }));
      g.endpoints.push(ep);
    }
  }
  return out;
}

/** Identity of an endpoint inside a slice: its addresses, hostname and pod. */
const endpointKey = (ep: JsonObject): string => {
  const ref = ep.targetRef as JsonObject | undefined;
  const addresses = Array.isArray(ep.addresses) ? ep.addresses.map(String).sort() : [];
  return canonicalJson({
    a: addresses,
    h: strAt(ep.hostname),
    ns: strAt(ref?.namespace),
    n: strAt(ref?.name),
  });
};

/** Labels a Service's slices carry: the Service's own, plus the reserved ones. */
export function sliceLabels(svc: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labelsAt(svc))) if (!RESERVED_SLICE_LABELS.has(k)) out[k] = v;
  if (!hasClusterIp(svc)) out[HEADLESS_LABEL] = '';
  out[SERVICE_NAME_LABEL] = nameAt(svc);
  out[MANAGED_BY_LABEL] = MANAGED_BY;
  return out;
}

const nonReservedLabels = (labels: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => !RESERVED_SLICE_LABELS.has(k)));

function newSlice(svc: JsonObject, addressType: string, ports: JsonObject[]): JsonObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${nameAt(svc)}-`,
      namespace: namespaceAt(svc),
      labels: sliceLabels(svc),
      ownerReferences: [controllerRef(svc, 'v1', 'Service')],
    },
    addressType,
    endpoints: [],
    ports: clone(ports),
  };
}

const sliceEndpoints = (s: JsonObject): JsonObject[] => listAt(s.endpoints);

export interface SlicePlan {
  create: JsonObject[];
  /** Full objects; those that reuse a slice about to be deleted carry no resourceVersion. */
  update: JsonObject[];
  remove: JsonObject[];
}

interface Pending {
  create: JsonObject[];
  update: JsonObject[];
  remove: JsonObject[];
}

/** Places one port set's endpoints into the existing slices with those ports, then into new ones. */
function reconcilePortSet(
  svc: JsonObject,
  existing: JsonObject[],
  group: SliceGroup,
  addressType: string,
): Pending {
  const out: Pending = { create: [], update: [], remove: [] };
  const desired = new Map(group.endpoints.map((ep) => [endpointKey(ep), ep]));
  const labels = sliceLabels(svc);
  const toUpdate: JsonObject[] = [];
  const unchanged: JsonObject[] = [];
  for (const slice of existing) {
    const kept: JsonObject[] = [];
    let changed = false;
    for (const ep of sliceEndpoints(slice)) {
      const key = endpointKey(ep);
      const want = desired.get(key);
      if (!want) continue;
      kept.push(want);
      if (!isDeepStrictEqual(want, ep)) changed = true;
      desired.delete(key);
    }
    const labelsChanged = !sameStringMap(nonReservedLabels(labelsAt(slice)), nonReservedLabels(labels));
    if (changed || kept.length !== sliceEndpoints(slice).length) {
      if (kept.length === 0) out.remove.push(slice);
      else {
        const next = clone(slice);
        next.endpoints = kept;
        mutObj(next, 'metadata').labels = { ...labels };
        toUpdate.push(next);
      }
    } else if (labelsChanged) {
      const next = clone(slice);
      mutObj(next, 'metadata').labels = { ...labels };
      toUpdate.push(next);
    } else unchanged.push(slice);
  }
  const left = [...desired.values()];
  // Fill the slices being updated anyway, fullest first.
  for (const slice of [...toUpdate].sort((a, b) => sliceEndpoints(b).length - sliceEndpoints(a).length)) {
    while (left.length > 0 && sliceEndpoints(slice).length < MAX_ENDPOINTS_PER_SLICE) {
      slice.endpoints = [...sliceEndpoints(slice), left.shift() as JsonObject];
    }
  }
  while (left.length > 0) {
    let target: JsonObject | undefined;
    if (left.length < MAX_ENDPOINTS_PER_SLICE && unchanged.length > 0) {
      // The unchanged slice with the least room that still fits them all.
      let best = MAX_ENDPOINTS_PER_SLICE;
      for (const s of unchanged) {
        const room = MAX_ENDPOINTS_PER_SLICE - (left.length + sliceEndpoints(s).length);
        if (room >= 0 && room < best) {
          best = room;
          target = s;
        }
      }
    }
    const fresh = target === undefined;
    const slice = target ? clone(target) : newSlice(svc, addressType, group.ports);
    if (target) unchanged.splice(unchanged.indexOf(target), 1);
    while (left.length > 0 && sliceEndpoints(slice).length < MAX_ENDPOINTS_PER_SLICE) {
      slice.endpoints = [...sliceEndpoints(slice), left.shift() as JsonObject];
    }
    if (fresh) out.create.push(slice);
    else toUpdate.push(slice);
  }
  out.update.push(...toUpdate);
  return out;
}

/** A slice that already is the placeholder kube keeps for a Service without endpoints. */
function isPlaceholder(slice: JsonObject, placeholder: JsonObject): boolean {
  return (
    namespaceAt(slice) === namespaceAt(placeholder) &&
    sameStringMap(labelsAt(slice), labelsAt(placeholder)) &&
    slice.addressType === placeholder.addressType &&
    sliceEndpoints(slice).length === 0 &&
    listAt(slice.ports).length === 0
  );
}

/** Stored form: empty endpoint and port lists are null, as kube-apiserver returns them. */
function stored(slice: JsonObject): JsonObject {
  if (sliceEndpoints(slice).length === 0) slice.endpoints = null;
  if (listAt(slice.ports).length === 0) slice.ports = null;
  return slice;
}

/**
 * The slice writes that make `existing` (slices labelled for this Service and managed by the
 * controller) publish `desired`. A Service without endpoints keeps one placeholder slice, and a
 * slice that would be deleted is reused for one that would be created.
 */
export function planEndpointSlices(
  svc: JsonObject,
  existing: JsonObject[],
  desired: DesiredSlices,
  triggerTime: string | undefined,
): SlicePlan {
  const uid = uidAt(svc);
  const owned = existing.filter((s) => controlledBy(s, uid) && !isDeleting(s));
  const types = addressTypes(svc);
  const all: Pending = {
    create: [],
    update: [],
    remove: owned.filter((s) => !types.includes(strAt(s.addressType))),
  };
  for (const type of types) {
    const slices = owned.filter((s) => s.addressType === type);
    const byPorts = new Map<string, JsonObject[]>();
    for (const s of slices) {
      const key = portKey(listAt(s.ports));
      byPorts.set(key, [...(byPorts.get(key) ?? []), s]);
    }
    const groups = desired.groups.get(type) ?? new Map<string, SliceGroup>();
    const part: Pending = { create: [], update: [], remove: [] };
    for (const [key, group] of groups) {
      const r = reconcilePortSet(svc, byPorts.get(key) ?? [], group, type);
      part.create.push(...r.create);
      part.update.push(...r.update);
      part.remove.push(...r.remove);
    }
    for (const [key, ss] of byPorts) if (!groups.has(key)) part.remove.push(...ss);
    if (slices.length === part.remove.length && part.create.length === 0) {
      const placeholder = newSlice(svc, type, []);
      const only = part.remove[0];
      if (part.remove.length === 1 && only && isPlaceholder(only, placeholder)) part.remove = [];
      else part.create.push(placeholder);
    }
    all.create.push(...part.create);
    all.update.push(...part.update);
    all.remove.push(...part.remove);
  }
  // Reuse slices about to be deleted for slices about to be created.
  const remove: JsonObject[] = [];
  for (const gone of all.remove) {
    const reuse = all.create[all.create.length - 1];
    if (reuse && reuse.addressType === gone.addressType && controlledBy(gone, uid)) {
      all.create.pop();
      mutObj(reuse, 'metadata').name = nameAt(gone);
      all.update.push(reuse);
    } else remove.push(gone);
  }
  for (const s of [...all.create, ...all.update]) withTriggerTime(s, triggerTime);
  return { create: all.create.map(stored), update: all.update.map(stored), remove };
}

// ------------------------------------------------------------------------------- Endpoints

interface AddressEntry {
  address: JsonObject;
  ready: boolean;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const addressOrder = (a: JsonObject, b: JsonObject): number =>
  compareStrings(strAt(a.ip), strAt(b.ip)) ||
  compareStrings(
    strAt((a.targetRef as JsonObject | undefined)?.uid),
    strAt((b.targetRef as JsonObject | undefined)?.uid),
  );

const portOrder = (a: JsonObject, b: JsonObject): number =>
  compareStrings(strAt(a.name), strAt(b.name)) ||
  numAt(a.port) - numAt(b.port) ||
  compareStrings(strAt(a.protocol), strAt(b.protocol));

/**
 * The subsets of a Service's core Endpoints: every address offering the same set of ports shares
 * a subset; ready pods (or all, with publishNotReadyAddresses) under addresses, others under
 * notReadyAddresses. Terminating pods are left out unless publishNotReadyAddresses is set.
 */
export function endpointsSubsets(svc: JsonObject, pods: JsonObject[]): JsonObject[] {
  const spec = specAt(svc);
  const publish = spec.publishNotReadyAddresses === true;
  const wantV6 = addressTypes(svc)[0] === 'IPv6';
  const servicePorts = listAt(spec.ports);
  const NO_PORT = '-';
  const byPort = new Map<string, { port: JsonObject | undefined; addresses: Map<string, AddressEntry> }>();
  const offer = (key: string, port: JsonObject | undefined, addrKey: string, entry: AddressEntry): void => {
    let slot = byPort.get(key);
    if (!slot) byPort.set(key, (slot = { port, addresses: new Map() }));
    const prior = slot.addresses.get(addrKey);
    slot.addresses.set(addrKey, { address: prior?.address ?? entry.address, ready: entry.ready });
  };
  for (const pod of byName(pods)) {
    if (!belongsInEndpoints(pod, publish)) continue;
    const ip = podIps(pod).find((a) => isIpv6(a) === wantV6);
    if (ip === undefined) continue;
    const address: JsonObject = { ip };
    if (shouldSetHostname(pod, svc)) address.hostname = strAt(specAt(pod).hostname);
    address.nodeName = strAt(specAt(pod).nodeName);
    address.targetRef = podRef(pod);
    const entry = { address, ready: publish || isReady(pod) };
    const addrKey = `${ip}|${uidAt(pod)}`;
    if (servicePorts.length === 0) {
      if (spec.clusterIP === 'None') offer(NO_PORT, undefined, addrKey, entry);
      continue;
    }
    for (const sp of servicePorts) {
      const n = findPort(pod, sp);
      if (n === undefined) continue;
      const port: JsonObject = {};
      if (strAt(sp.name)) port.name = strAt(sp.name);
      port.port = n;
      port.protocol = strAt(sp.protocol) || 'TCP';
      if (typeof sp.appProtocol === 'string') port.appProtocol = sp.appProtocol;
      offer(canonicalJson(port), port, addrKey, entry);
    }
  }
  // Ports offered by exactly the same addresses (with the same readiness) share a subset.
  const subsets = new Map<string, { entries: AddressEntry[]; ports: JsonObject[] }>();
  for (const slot of byPort.values()) {
    const key = [...slot.addresses.entries()]
      .map(([k, e]) => `${k}=${String(e.ready)}`)
      .sort()
      .join(',');
    let s = subsets.get(key);
    if (!s) subsets.set(key, (s = { entries: [...slot.addresses.values()], ports: [] }));
    if (slot.port) s.ports.push(slot.port);
  }
  const out: JsonObject[] = [];
  for (const s of subsets.values()) {
    const subset: JsonObject = {};
    const ready = s.entries.filter((e) => e.ready).map((e) => e.address);
    const notReady = s.entries.filter((e) => !e.ready).map((e) => e.address);
    if (ready.length > 0) subset.addresses = ready.sort(addressOrder);
    if (notReady.length > 0) subset.notReadyAddresses = notReady.sort(addressOrder);
    if (s.ports.length > 0) subset.ports = s.ports.sort(portOrder);
    out.push(subset);
  }
  return out.sort((a, b) => compareStrings(canonicalJson(a), canonicalJson(b)));
}

/**
 * The Endpoints object the Service should have, or undefined when `current` already has the right
 * subsets and labels (then nothing is written, not even a new trigger time).
 */
export function desiredEndpoints(
  svc: JsonObject,
  current: JsonObject | undefined,
  pods: JsonObject[],
  triggerTime: string | undefined,
): JsonObject | undefined {
  const subsets = endpointsSubsets(svc, pods);
  const svcLabels = labelsAt(svc);
  if (current) {
    const currentLabels = labelsAt(current);
    delete currentLabels[HEADLESS_LABEL];
    const sameSubsets = isDeepStrictEqual(listAt(current.subsets), subsets);
    const capacityOk = annotationsAt(current)[OVER_CAPACITY_ANNOTATION] === undefined;
    if (sameSubsets && sameStringMap(currentLabels, svcLabels) && capacityOk) return undefined;
  }
  const next: JsonObject = current
    ? clone(current)
    : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: nameAt(svc), namespace: namespaceAt(svc) } };
  const meta = mutObj(next, 'metadata');
  const labels = { ...svcLabels };
  if (!hasClusterIp(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  if (Object.keys(labels).length > 0) meta.labels = labels;
  else delete meta.labels;
  withTriggerTime(next, triggerTime);
  const ann = annotationsAt(next);
  if (ann[OVER_CAPACITY_ANNOTATION] !== undefined) {
    delete ann[OVER_CAPACITY_ANNOTATION];
    if (Object.keys(ann).length > 0) meta.annotations = ann;
    else delete meta.annotations;
  }
  if (subsets.length > 0) next.subsets = subsets;
  else delete next.subsets;
  return next;
}
