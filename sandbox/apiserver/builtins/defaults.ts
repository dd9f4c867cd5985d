// Server-side defaulting of built-in objects as kube-apiserver v1.26 applies it on every write: the
// SetDefaults_* functions, the registry strategies' create/update preparation and the admission plugins.
import { objectMetaFields } from '../object-meta-fields.js';
import type { Json, JsonObject, StatusCause } from '../types.js';
import { isObject } from '../types.js';
import { goStringSlice, invalid } from '../validation/meta.js';
import { canonicalTime, normalizeCoreEvent } from './events.js';
import { canonicalQuantity, parseQuantity, serviceClusterIPCauses } from './validate.js';

/** What defaulting needs from the rest of the server (allocations); built per request by admission. */
export interface DefaultsContext {
  /** The service cluster IP range, e.g. "10.0.0.0/24" (kube-apiserver's --service-cluster-ip-range). */
  serviceCidr: string;
  /** Whether an IP lies in serviceCidr, excluding its network and broadcast addresses. */
  inServiceRange(ip: string): boolean;
  /** The address reserved for the default/kubernetes Service (the range's first host). */
  kubernetesServiceIP: string;
  isClusterIPInUse(ip: string): boolean;
  allocateClusterIP(): string;
  allocateNodePort(): number;
  /** Whether a nodePort is held by another Service; when absent, requested nodePorts are not checked. */
  isNodePortInUse?(port: number): boolean;
  /** Five characters for generated names (`kube-api-access-xxxxx`); random when absent. */
  randomSuffix?(): string;
}

export type DefaultsResult = { ok: true } | { ok: false; error: { causes?: StatusCause[] } } | undefined;

// ---------------------------------------------------------------------------------------------
// Helpers over decoded JSON.

const objOf = (v: Json | undefined): JsonObject | undefined => (isObject(v) ? v : undefined);
const objects = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const strOf = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
const absent = (v: Json | undefined): boolean => v === undefined || v === null;

/** obj[key] as an object, created (or replacing a non-object) when missing. */
function child(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (isObject(v)) return v;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

function setDefault(obj: JsonObject, key: string, value: Json): void {
  if (absent(obj[key]) || obj[key] === '') obj[key] = value;
}

/** Rewrites obj's keys in Go's field order (what the server serializes); unknown keys keep their place after. */
function reorder(obj: JsonObject, order: readonly string[]): void {
  const entries = Object.entries(obj);
  for (const [k] of entries) delete obj[k];
  const byKey = new Map(entries);
  for (const k of order) if (byKey.has(k)) obj[k] = byKey.get(k) as Json;
  for (const [k, v] of entries) if (!order.includes(k)) obj[k] = v;
}

function canonicalTimeField(obj: JsonObject, key: string, micro: boolean): void {
  const v = obj[key];
  if (typeof v === 'string') obj[key] = canonicalTime(v, micro);
}

/** A metav1.Time field Go always writes (null when unset), in canonical form. */
function timeOrNull(obj: JsonObject, key: string): void {
  if (absent(obj[key])) obj[key] = null;
  else canonicalTimeField(obj, key, false);
}

function canonicalQuantities(list: Json | undefined): void {
  const m = objOf(list);
  if (!m) return;
  for (const [k, v] of Object.entries(m)) {
    const c = canonicalQuantity(v);
    if (c !== undefined) m[k] = c;
  }
}

// ---------------------------------------------------------------------------------------------
// Go field orders of the structs the server writes.

const podSpecOrder = [
  'volumes',
  'initContainers',
  'containers',
  'ephemeralContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'dnsPolicy',
  'nodeSelector',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'nodeName',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'securityContext',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'affinity',
  'schedulerName',
  'tolerations',
  'hostAliases',
  'priorityClassName',
  'priority',
  'dnsConfig',
  'readinessGates',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'overhead',
  'topologySpreadConstraints',
  'setHostnameAsFQDN',
  'os',
  'hostUsers',
  'schedulingGates',
  'resourceClaims',
];
const containerOrder = [
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
  'targetContainerName',
];
const probeOrder = [
  'exec',
  'httpGet',
  'tcpSocket',
  'grpc',
  'initialDelaySeconds',
  'timeoutSeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
];
const podStatusOrder = [
  'phase',
  'conditions',
  'message',
  'reason',
  'nominatedNodeName',
  'hostIP',
  'podIP',
  'podIPs',
  'startTime',
  'initContainerStatuses',
  'containerStatuses',
  'qosClass',
  'ephemeralContainerStatuses',
];
const containerStatusOrder = [
  'name',
  'state',
  'lastState',
  'ready',
  'restartCount',
  'image',
  'imageID',
  'containerID',
  'started',
];
const serviceSpecOrder = [
  'ports',
  'selector',
  'clusterIP',
  'clusterIPs',
  'type',
  'externalIPs',
  'sessionAffinity',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'externalName',
  'externalTrafficPolicy',
  'healthCheckNodePort',
  'publishNotReadyAddresses',
  'sessionAffinityConfig',
  'ipFamilies',
  'ipFamilyPolicy',
  'allocateLoadBalancerNodePorts',
  'loadBalancerClass',
  'internalTrafficPolicy',
];

// ---------------------------------------------------------------------------------------------
// Pod specs.

/** ParseImageName's tag: "latest" when the reference has neither tag nor digest, "" when it does not parse. */
export function imageTag(image: string): string {
  const component = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
  const domainPart = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const domain = `${domainPart}(?:\\.${domainPart})*(?::[0-9]+)?`;
  const name = `(?:${domain}/)?${component}(?:/${component})*`;
  const re = new RegExp(
    `^(${name})(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
  );
  const m = re.exec(image);
  if (!m || (m[1] ?? '').length > 255 || /^[a-f0-9]{64}$/.test(image)) return '';
  const tag = m[2] ?? '';
  return tag === '' && m[3] === undefined ? 'latest' : tag;
}

function defaultHttpGet(h: JsonObject | undefined): void {
  if (!h) return;
  setDefault(h, 'path', '/');
  setDefault(h, 'scheme', 'HTTP');
  reorder(h, ['path', 'port', 'host', 'scheme', 'httpHeaders']);
}

function defaultProbe(p: JsonObject | undefined): void {
  if (!p) return;
  for (const [k, v] of [
    ['timeoutSeconds', 1],
    ['periodSeconds', 10],
    ['successThreshold', 1],
    ['failureThreshold', 3],
  ] as const) {
    if (absent(p[k]) || p[k] === 0) p[k] = v;
  }
  defaultHttpGet(objOf(p['httpGet']));
  const grpc = objOf(p['grpc']);
  if (grpc && absent(grpc['service'])) grpc['service'] = '';
  reorder(p, probeOrder);
}

function defaultFieldRef(ref: JsonObject | undefined): void {
  if (!ref) return;
  setDefault(ref, 'apiVersion', 'v1');
  reorder(ref, ['apiVersion', 'fieldPath']);
}

function defaultResourceFieldRef(ref: JsonObject | undefined): void {
  if (!ref) return;
  ref['divisor'] = canonicalQuantity(ref['divisor']) ?? '0';
  reorder(ref, ['containerName', 'resource', 'divisor']);
}

function defaultContainer(c: JsonObject, hostNetwork: boolean): void {
  for (const port of objects(c['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    if (hostNetwork && (absent(port['hostPort']) || port['hostPort'] === 0))
      port['hostPort'] = port['containerPort'] ?? 0;
    reorder(port, ['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']);
  }
  for (const env of objects(c['env'])) {
    const from = objOf(env['valueFrom']);
    if (!from) continue;
    defaultFieldRef(objOf(from['fieldRef']));
    defaultResourceFieldRef(objOf(from['resourceFieldRef']));
  }
  const resources = child(c, 'resources');
  canonicalQuantities(resources['limits']);
  canonicalQuantities(resources['requests']);
  reorder(resources, ['limits', 'requests', 'claims']);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(objOf(c[probe]));
  const lifecycle = objOf(c['lifecycle']);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) defaultHttpGet(objOf(objOf(lifecycle[hook])?.['httpGet']));
  }
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (absent(c['imagePullPolicy']) || c['imagePullPolicy'] === '') {
    c['imagePullPolicy'] = imageTag(strOf(c['image'])) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  reorder(c, containerOrder);
}

/** Defaults of one volume source body (SetDefaults_*VolumeSource). */
const volumeSourceDefaults: Readonly<Record<string, readonly (readonly [string, Json])[]>> = {
  secret: [['defaultMode', 420]],
  configMap: [['defaultMode', 420]],
  downwardAPI: [['defaultMode', 420]],
  projected: [['defaultMode', 420]],
  hostPath: [['type', '']],
  iscsi: [['iscsiInterface', 'default']],
  rbd: [
    ['pool', 'rbd'],
    ['user', 'admin'],
    ['keyring', '/etc/ceph/keyring'],
  ],
  azureDisk: [
    ['cachingMode', 'ReadWrite'],
    ['fsType', 'ext4'],
    ['readOnly', false],
    ['kind', 'Shared'],
  ],
  scaleIO: [
    ['storageMode', 'ThinProvisioned'],
    ['fsType', 'xfs'],
  ],
};

function defaultDownwardItems(items: Json | undefined): void {
  for (const item of objects(items)) {
    defaultFieldRef(objOf(item['fieldRef']));
    defaultResourceFieldRef(objOf(item['resourceFieldRef']));
  }
}

function defaultVolume(vol: JsonObject): void {
  const sources = Object.keys(vol).filter((k) => k !== 'name' && isObject(vol[k]));
  if (sources.length === 0) vol['emptyDir'] = {};
  for (const src of sources) {
    const body = objOf(vol[src]);
    if (!body) continue;
    for (const [k, v] of volumeSourceDefaults[src] ?? []) if (absent(body[k])) body[k] = v;
    if (src === 'emptyDir' && !absent(body['sizeLimit'])) {
      body['sizeLimit'] = canonicalQuantity(body['sizeLimit']) ?? body['sizeLimit'] ?? null;
    }
    if (src === 'downwardAPI') defaultDownwardItems(body['items']);
    if (src === 'projected') {
      for (const s of objects(body['sources'])) {
        defaultDownwardItems(objOf(s['downwardAPI'])?.['items']);
        const token = objOf(s['serviceAccountToken']);
        if (token && absent(token['expirationSeconds'])) token['expirationSeconds'] = 3600;
      }
    }
  }
}

/** SetDefaults_PodSpec and friends; `pod` adds what only Pods get (enableServiceLinks, requests from limits). */
function defaultPodSpec(spec: JsonObject, pod: boolean): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  if (absent(spec['securityContext'])) spec['securityContext'] = {};
  if (absent(spec['terminationGracePeriodSeconds'])) spec['terminationGracePeriodSeconds'] = 30;
  setDefault(spec, 'schedulerName', 'default-scheduler');
  const serviceAccount = strOf(spec['serviceAccountName']) || strOf(spec['serviceAccount']);
  if (serviceAccount !== '') {
    spec['serviceAccountName'] = serviceAccount;
    spec['serviceAccount'] = serviceAccount;
  } else {
    delete spec['serviceAccountName'];
    delete spec['serviceAccount'];
  }
  const hostNetwork = spec['hostNetwork'] === true;
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of objects(spec[list])) {
      if (pod) requestsFromLimits(c);
      defaultContainer(c, hostNetwork);
    }
  }
  for (const vol of objects(spec['volumes'])) defaultVolume(vol);
  if (pod && absent(spec['enableServiceLinks'])) spec['enableServiceLinks'] = true;
  reorder(spec, podSpecOrder);
}

/** SetDefaults_Pod: a resource with a limit and no request requests its limit. */
function requestsFromLimits(c: JsonObject): void {
  const resources = objOf(c['resources']);
  const limits = objOf(resources?.['limits']);
  if (!resources || !limits) return;
  const requests = child(resources, 'requests');
  for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
}

function defaultPodTemplate(spec: JsonObject): void {
  const template = child(spec, 'template');
  const meta = child(template, 'metadata');
  if (absent(meta['creationTimestamp'])) meta['creationTimestamp'] = null;
  else canonicalTimeField(meta, 'creationTimestamp', false);
  reorder(meta, objectMetaFields);
  defaultPodSpec(child(template, 'spec'), false);
  reorder(template, ['metadata', 'spec']);
}

// ---------------------------------------------------------------------------------------------
// Pods: what the admission plugins add on create (service account token volume, tolerations,
// priority) and the status the strategy sets.

const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixAlphabet[Math.floor(Math.random() * suffixAlphabet.length)] ?? 'x';
  return s;
}

/** The ServiceAccount admission plugin: default account, and the projected API token volume mounted everywhere. */
function admitServiceAccount(obj: JsonObject, spec: JsonObject, ctx: DefaultsContext): void {
  const annotations = objOf(objOf(obj['metadata'])?.['annotations']) ?? {};
  if (annotations['kubernetes.io/config.mirror'] !== undefined) return;
  if (strOf(spec['serviceAccountName']) === '') {
    spec['serviceAccountName'] = 'default';
    spec['serviceAccount'] = 'default';
  }
  if (spec['automountServiceAccountToken'] === false) return;
  const volumes = objects(spec['volumes']);
  const existing = volumes.find((v) => strOf(v['name']).startsWith('kube-api-access-'));
  const volumeName = existing
    ? strOf(existing['name'])
    : `kube-api-access-${ctx.randomSuffix?.() ?? randomSuffix()}`;
  let needsVolume = false;
  for (const list of ['initContainers', 'containers']) {
    for (const c of objects(spec[list])) {
      const mounts = objects(c['volumeMounts']);
      if (mounts.some((m) => m['mountPath'] === tokenMountPath)) continue;
      c['volumeMounts'] = [...mounts, { name: volumeName, readOnly: true, mountPath: tokenMountPath }];
      needsVolume = true;
      reorder(c, containerOrder);
    }
  }
  if (existing || !needsVolume) return;
  spec['volumes'] = [
    ...volumes,
    {
      name: volumeName,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
        defaultMode: 420,
      },
    },
  ];
}

/** The DefaultTolerationSeconds admission plugin: tolerate not-ready/unreachable nodes for 300 s. */
function defaultTolerations(spec: JsonObject): void {
  const tolerations = objects(spec['tolerations']);
  const tolerates = (key: string): boolean =>
    tolerations.some(
      (t) =>
        (t['key'] === key || strOf(t['key']) === '') &&
        (t['effect'] === 'NoExecute' || strOf(t['effect']) === ''),
    );
  const added: JsonObject[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  if (added.length > 0) spec['tolerations'] = [...tolerations, ...added];
}

const systemPriorities: Readonly<Record<string, number>> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** The Priority admission plugin (no PriorityClass objects exist besides the two system ones). */
function admitPriority(spec: JsonObject): void {
  spec['priority'] = systemPriorities[strOf(spec['priorityClassName'])] ?? 0;
  if (absent(spec['preemptionPolicy'])) spec['preemptionPolicy'] = 'PreemptLowerPriority';
}

/** qos.GetPodQOS over cpu and memory (requests already defaulted from limits). */
export function podQosClass(spec: JsonObject): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  const positive = (v: Json | undefined): bigint | undefined => {
    const q = typeof v === 'string' || typeof v === 'number' ? parseQuantity(String(v).trim()) : undefined;
    return q?.ok && q.value.nanos > 0n ? q.value.nanos : undefined;
  };
  for (const c of [...objects(spec['containers']), ...objects(spec['initContainers'])]) {
    const resources = objOf(c['resources']) ?? {};
    for (const [name, v] of Object.entries(objOf(resources['requests']) ?? {})) {
      const n = name === 'cpu' || name === 'memory' ? positive(v) : undefined;
      if (n !== undefined) requests.set(name, (requests.get(name) ?? 0n) + n);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(objOf(resources['limits']) ?? {})) {
      const n = name === 'cpu' || name === 'memory' ? positive(v) : undefined;
      if (n === undefined) continue;
      found.add(name);
      limits.set(name, (limits.get(name) ?? 0n) + n);
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) if (limits.get(name) !== req) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

function normalizeContainerStatus(s: JsonObject): void {
  for (const key of ['state', 'lastState']) {
    const state = child(s, key);
    const running = objOf(state['running']);
    if (running) timeOrNull(running, 'startedAt');
    const terminated = objOf(state['terminated']);
    if (terminated) {
      if (absent(terminated['exitCode'])) terminated['exitCode'] = 0;
      timeOrNull(terminated, 'startedAt');
      timeOrNull(terminated, 'finishedAt');
      reorder(terminated, [
        'exitCode',
        'signal',
        'reason',
        'message',
        'startedAt',
        'finishedAt',
        'containerID',
      ]);
    }
    reorder(state, ['waiting', 'running', 'terminated']);
  }
  if (absent(s['ready'])) s['ready'] = false;
  if (absent(s['restartCount'])) s['restartCount'] = 0;
  if (absent(s['image'])) s['image'] = '';
  if (absent(s['imageID'])) s['imageID'] = '';
  reorder(s, containerStatusOrder);
}

/** PodStatus as Go writes it: condition times and container states always present. */
function normalizePodStatus(status: JsonObject): void {
  for (const c of objects(status['conditions'])) {
    timeOrNull(c, 'lastProbeTime');
    timeOrNull(c, 'lastTransitionTime');
    reorder(c, ['type', 'status', 'lastProbeTime', 'lastTransitionTime', 'reason', 'message']);
  }
  canonicalTimeField(status, 'startTime', false);
  for (const list of ['initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses']) {
    for (const s of objects(status[list])) normalizeContainerStatus(s);
  }
  reorder(status, podStatusOrder);
}

function defaultPod(obj: JsonObject, ctx: DefaultsContext, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  defaultPodSpec(spec, true);
  if (!old) {
    admitServiceAccount(obj, spec, ctx);
    admitPriority(spec);
  }
  defaultTolerations(spec);
  reorder(spec, podSpecOrder);
  if (!old) obj['status'] = { phase: 'Pending', qosClass: podQosClass(spec) };
  normalizePodStatus(child(obj, 'status'));
}

// ---------------------------------------------------------------------------------------------
// apps/v1 workloads.

function defaultDeployment(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  if (absent(spec['replicas'])) spec['replicas'] = 1;
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    if (absent(rolling['maxUnavailable'])) rolling['maxUnavailable'] = '25%';
    if (absent(rolling['maxSurge'])) rolling['maxSurge'] = '25%';
    reorder(rolling, ['maxUnavailable', 'maxSurge']);
  }
  reorder(strategy, ['type', 'rollingUpdate']);
  if (absent(spec['revisionHistoryLimit'])) spec['revisionHistoryLimit'] = 10;
  if (absent(spec['progressDeadlineSeconds'])) spec['progressDeadlineSeconds'] = 600;
  defaultPodTemplate(spec);
  reorder(spec, [
    'replicas',
    'selector',
    'template',
    'strategy',
    'minReadySeconds',
    'revisionHistoryLimit',
    'paused',
    'progressDeadlineSeconds',
  ]);
  if (!old || !isObject(obj['status'])) obj['status'] = {};
}

function defaultReplicaSet(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  if (absent(spec['replicas'])) spec['replicas'] = 1;
  defaultPodTemplate(spec);
  reorder(spec, ['replicas', 'minReadySeconds', 'selector', 'template']);
  if (!old) obj['status'] = {};
  const status = child(obj, 'status');
  if (absent(status['replicas'])) status['replicas'] = 0;
}

const daemonSetStatusZeros = [
  'currentNumberScheduled',
  'numberMisscheduled',
  'desiredNumberScheduled',
  'numberReady',
];

function defaultDaemonSet(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    if (absent(rolling['maxUnavailable'])) rolling['maxUnavailable'] = 1;
    if (absent(rolling['maxSurge'])) rolling['maxSurge'] = 0;
    reorder(rolling, ['maxUnavailable', 'maxSurge']);
  }
  reorder(strategy, ['type', 'rollingUpdate']);
  if (absent(spec['revisionHistoryLimit'])) spec['revisionHistoryLimit'] = 10;
  defaultPodTemplate(spec);
  reorder(spec, ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit']);
  if (!old) obj['status'] = {};
  const status = child(obj, 'status');
  for (const k of daemonSetStatusZeros) if (absent(status[k])) status[k] = 0;
  reorder(status, daemonSetStatusZeros);
}

// ---------------------------------------------------------------------------------------------
// Services: defaults, then what the registry does before validation (keep allocated values on
// update, sync clusterIP/clusterIPs, drop type-dependent fields, IP families, allocation).

const nodePortRangeText = '30000-32767';

const needsClusterIP = (spec: JsonObject): boolean => strOf(spec['type']) !== 'ExternalName';
const needsNodePort = (spec: JsonObject): boolean =>
  spec['type'] === 'NodePort' ||
  (spec['type'] === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
const externallyAccessible = (spec: JsonObject): boolean =>
  spec['type'] === 'LoadBalancer' ||
  spec['type'] === 'NodePort' ||
  (spec['type'] === 'ClusterIP' && Array.isArray(spec['externalIPs']) && spec['externalIPs'].length > 0);
const needsHealthCheck = (spec: JsonObject): boolean =>
  spec['type'] === 'LoadBalancer' && spec['externalTrafficPolicy'] === 'Local';
const sameJson = (a: Json | undefined, b: Json | undefined): boolean =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const nodePortsOf = (spec: JsonObject): number[] =>
  objects(spec['ports']).map((p) => (typeof p['nodePort'] === 'number' ? p['nodePort'] : 0));

/** SetDefaults_Service. */
function serviceSpecDefaults(spec: JsonObject): void {
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'None') delete spec['sessionAffinityConfig'];
  if (spec['sessionAffinity'] === 'ClientIP') {
    const timeout = objOf(objOf(spec['sessionAffinityConfig'])?.['clientIP'])?.['timeoutSeconds'];
    if (absent(timeout)) spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: 10800 } };
  }
  setDefault(spec, 'type', 'ClusterIP');
  for (const port of objects(spec['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    const target = port['targetPort'];
    if (absent(target) || target === 0 || target === '') port['targetPort'] = port['port'] ?? 0;
    reorder(port, ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort']);
  }
  if (externallyAccessible(spec)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (
    absent(spec['internalTrafficPolicy']) &&
    ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(strOf(spec['type']))
  ) {
    spec['internalTrafficPolicy'] = 'Cluster';
  }
  if (spec['type'] === 'LoadBalancer' && absent(spec['allocateLoadBalancerNodePorts'])) {
    spec['allocateLoadBalancerNodePorts'] = true;
  }
}

/** patchAllocatedValues, NormalizeClusterIPs and dropTypeDependentFields of an update. */
function serviceUpdatePrep(spec: JsonObject, oldSpec: JsonObject): void {
  const clusterIPsOf = (s: JsonObject): string[] =>
    Array.isArray(s['clusterIPs']) ? s['clusterIPs'].map(strOf) : [];
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (strOf(spec['clusterIP']) === '' && !absent(oldSpec['clusterIP']))
      spec['clusterIP'] = oldSpec['clusterIP'] ?? '';
    if (clusterIPsOf(spec).length === 0 && clusterIPsOf(oldSpec).length > 0)
      spec['clusterIPs'] = clusterIPsOf(oldSpec);
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const oldPorts = objects(oldSpec['ports']);
    const used = new Set(nodePortsOf(oldSpec).filter((p) => nodePortsOf(spec).includes(p)));
    const byName = new Map(
      oldPorts.map((p) => [strOf(p['name']), typeof p['nodePort'] === 'number' ? p['nodePort'] : 0]),
    );
    for (const port of objects(spec['ports'])) {
      if (typeof port['nodePort'] === 'number' && port['nodePort'] !== 0) continue;
      const previous = byName.get(strOf(port['name'])) ?? 0;
      if (previous !== 0 && !used.has(previous)) port['nodePort'] = previous;
    }
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && absent(spec['healthCheckNodePort'])) {
    if (!absent(oldSpec['healthCheckNodePort']))
      spec['healthCheckNodePort'] = oldSpec['healthCheckNodePort'] ?? 0;
  }
  // NormalizeClusterIPs(old, new).
  const newIPs = clusterIPsOf(spec);
  const oldIPs = clusterIPsOf(oldSpec);
  const sameIPs = (): boolean => sameJson(clusterIPsOf(spec), oldIPs);
  if (oldIPs.length > 0 && newIPs.length === 0 && strOf(oldSpec['clusterIP']) === strOf(spec['clusterIP'])) {
    spec['clusterIPs'] = oldIPs;
  }
  if (strOf(oldSpec['clusterIP']) !== strOf(spec['clusterIP'])) {
    if (strOf(oldSpec['clusterIP']) !== '' && strOf(spec['clusterIP']) === '') {
      if (sameIPs()) delete spec['clusterIPs'];
    } else if (sameIPs()) {
      spec['clusterIPs'] = [strOf(spec['clusterIP'])];
    }
  }
  // dropTypeDependentFields.
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (sameIPs()) {
      delete spec['clusterIP'];
      delete spec['clusterIPs'];
    }
    if (sameJson(spec['ipFamilies'], oldSpec['ipFamilies'])) delete spec['ipFamilies'];
    if (sameJson(spec['ipFamilyPolicy'], oldSpec['ipFamilyPolicy'])) delete spec['ipFamilyPolicy'];
  }
  if (needsNodePort(oldSpec) && !needsNodePort(spec) && sameJson(nodePortsOf(spec), nodePortsOf(oldSpec))) {
    for (const port of objects(spec['ports'])) delete port['nodePort'];
  }
  if (
    needsHealthCheck(oldSpec) &&
    !needsHealthCheck(spec) &&
    sameJson(spec['healthCheckNodePort'], oldSpec['healthCheckNodePort'])
  ) {
    delete spec['healthCheckNodePort'];
  }
  if (oldSpec['type'] === 'LoadBalancer' && spec['type'] !== 'LoadBalancer') {
    if (
      !absent(spec['allocateLoadBalancerNodePorts']) &&
      sameJson(spec['allocateLoadBalancerNodePorts'], oldSpec['allocateLoadBalancerNodePorts'])
    ) {
      delete spec['allocateLoadBalancerNodePorts'];
    }
    if (sameJson(spec['loadBalancerClass'], oldSpec['loadBalancerClass'])) delete spec['loadBalancerClass'];
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec)) {
    if (sameJson(spec['externalTrafficPolicy'], oldSpec['externalTrafficPolicy']))
      delete spec['externalTrafficPolicy'];
  }
}

/** initIPFamilyFields for a single-stack IPv4 cluster; returns kube's causes when the request cannot be met. */
function initIPFamilies(spec: JsonObject): StatusCause[] {
  const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'].map(strOf) : [];
  const families = Array.isArray(spec['ipFamilies']) ? spec['ipFamilies'].map(strOf) : [];
  if (absent(spec['ipFamilyPolicy']) && (ips.length === 2 || families.length === 2)) {
    spec['ipFamilyPolicy'] = 'RequireDualStack';
  }
  const pre = serviceClusterIPCauses(spec);
  if (pre.length > 0) return pre;
  const out: StatusCause[] = [];
  const policy = spec['ipFamilyPolicy'];
  if (policy === 'SingleStack') {
    const detail = "must be 'RequireDualStack' or 'PreferDualStack' when multiple";
    if (ips.length === 2)
      out.push(invalid('spec.ipFamilyPolicy', policy, `${detail} cluster IPs are specified`));
    if (families.length === 2)
      out.push(invalid('spec.ipFamilyPolicy', policy, `${detail} IP families are specified`));
  }
  for (const [i, ip] of ips.entries()) {
    if (ip === 'None') break;
    if (i < families.length) continue;
    if (ip.includes(':'))
      out.push(
        invalid(`spec.clusterIPs[${i}]`, goStringSlice(ips), 'IPv6 is not configured on this cluster'),
      );
    else families.push('IPv4');
  }
  if (out.length > 0) return out;
  const selector = objOf(spec['selector']);
  if (spec['clusterIP'] === 'None' && (!selector || Object.keys(selector).length === 0)) {
    spec['ipFamilies'] = families.length > 0 ? families : ['IPv4'];
    if (absent(spec['ipFamilyPolicy'])) spec['ipFamilyPolicy'] = 'RequireDualStack';
    return [];
  }
  if (policy === 'RequireDualStack') {
    out.push(
      invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services'),
    );
  }
  families.forEach((f, i) => {
    if (f !== 'IPv4') out.push(invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  if (out.length > 0) return out;
  spec['ipFamilies'] = families.length > 0 ? families : ['IPv4'];
  if (absent(spec['ipFamilyPolicy'])) spec['ipFamilyPolicy'] = 'SingleStack';
  return [];
}

function allocateServiceValues(
  spec: JsonObject,
  ctx: DefaultsContext,
  oldSpec: JsonObject | undefined,
): StatusCause[] {
  if (needsClusterIP(spec)) {
    const families = initIPFamilies(spec);
    if (families.length > 0) return families;
    const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'].map(strOf) : [];
    const oldIPs = oldSpec && Array.isArray(oldSpec['clusterIPs']) ? oldSpec['clusterIPs'].map(strOf) : [];
    if (ips.length === 0) {
      const ip = ctx.allocateClusterIP();
      spec['clusterIP'] = ip;
      spec['clusterIPs'] = [ip];
    } else if (ips[0] !== 'None' && ips[0] !== oldIPs[0]) {
      const ip = ips[0] ?? '';
      const failed = (why: string): StatusCause[] => [
        invalid('spec.clusterIPs', goStringSlice(ips), `failed to allocate IP ${ip}: ${why}`),
      ];
      if (!ctx.inServiceRange(ip)) {
        return failed(
          `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${ctx.serviceCidr}`,
        );
      }
      // The range's first host always belongs to the default/kubernetes Service.
      if (ip === ctx.kubernetesServiceIP || ctx.isClusterIPInUse(ip))
        return failed('provided IP is already allocated');
    }
  }
  const out: StatusCause[] = [];
  if (needsNodePort(spec)) {
    const owned = new Set(oldSpec ? nodePortsOf(oldSpec) : []);
    objects(spec['ports']).forEach((port, i) => {
      const requested = typeof port['nodePort'] === 'number' ? port['nodePort'] : 0;
      if (requested === 0) {
        port['nodePort'] = ctx.allocateNodePort();
        return;
      }
      if (owned.has(requested)) return;
      const field = `spec.ports[${i}].nodePort`;
      if (requested < 30000 || requested > 32767) {
        out.push(
          invalid(
            field,
            requested,
            `provided port is not in the valid range. The range of valid ports is ${nodePortRangeText}`,
          ),
        );
      } else if (ctx.isNodePortInUse?.(requested) === true) {
        out.push(invalid(field, requested, 'provided port is already allocated'));
      }
    });
  }
  if (needsHealthCheck(spec) && (absent(spec['healthCheckNodePort']) || spec['healthCheckNodePort'] === 0)) {
    spec['healthCheckNodePort'] = ctx.allocateNodePort();
  }
  return out;
}

function defaultService(obj: JsonObject, ctx: DefaultsContext, old: JsonObject | undefined): DefaultsResult {
  const spec = child(obj, 'spec');
  serviceSpecDefaults(spec);
  const oldSpec = old ? (objOf(old['spec']) ?? {}) : undefined;
  if (oldSpec) serviceUpdatePrep(spec, oldSpec);
  else if (
    strOf(spec['clusterIP']) !== '' &&
    (!Array.isArray(spec['clusterIPs']) || spec['clusterIPs'].length === 0)
  ) {
    spec['clusterIPs'] = [strOf(spec['clusterIP'])];
  }
  const causes = allocateServiceValues(spec, ctx, oldSpec);
  for (const port of objects(spec['ports']))
    reorder(port, ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort']);
  reorder(spec, serviceSpecOrder);
  if (!old) obj['status'] = { loadBalancer: {} };
  const status = child(obj, 'status');
  if (absent(status['loadBalancer'])) status['loadBalancer'] = {};
  if (causes.length > 0) return { ok: false, error: { causes } };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// Cluster objects and the rest.

function defaultNamespace(obj: JsonObject, old: JsonObject | undefined): void {
  const meta = child(obj, 'metadata');
  const name = strOf(meta['name']);
  if (name !== '') child(meta, 'labels')['kubernetes.io/metadata.name'] = name;
  const spec = child(obj, 'spec');
  if (old) {
    const oldFinalizers = objOf(old['spec'])?.['finalizers'];
    if (absent(oldFinalizers)) delete spec['finalizers'];
    else spec['finalizers'] = oldFinalizers ?? null;
  } else {
    const finalizers = Array.isArray(spec['finalizers']) ? spec['finalizers'] : [];
    if (!finalizers.includes('kubernetes')) spec['finalizers'] = [...finalizers, 'kubernetes'];
    obj['status'] = { phase: 'Active' };
  }
  const status = child(obj, 'status');
  setDefault(status, 'phase', 'Active');
  for (const c of objects(status['conditions'])) timeOrNull(c, 'lastTransitionTime');
}

const nodeInfoKeys = [
  'machineID',
  'systemUUID',
  'bootID',
  'kernelVersion',
  'osImage',
  'containerRuntimeVersion',
  'kubeletVersion',
  'kubeProxyVersion',
  'operatingSystem',
  'architecture',
];

function defaultNode(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  if (!old) {
    const taints = objects(spec['taints']);
    const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    if (!taints.some((t) => t['key'] === notReady.key && t['effect'] === notReady.effect)) {
      spec['taints'] = [...taints, notReady];
    }
  }
  const status = child(obj, 'status');
  canonicalQuantities(status['capacity']);
  if (absent(status['allocatable']) && isObject(status['capacity']))
    status['allocatable'] = { ...status['capacity'] };
  canonicalQuantities(status['allocatable']);
  for (const c of objects(status['conditions'])) {
    timeOrNull(c, 'lastHeartbeatTime');
    timeOrNull(c, 'lastTransitionTime');
    reorder(c, ['type', 'status', 'lastHeartbeatTime', 'lastTransitionTime', 'reason', 'message']);
  }
  const endpoint = child(child(status, 'daemonEndpoints'), 'kubeletEndpoint');
  if (absent(endpoint['Port'])) endpoint['Port'] = 0;
  const info = child(status, 'nodeInfo');
  for (const k of nodeInfoKeys) if (absent(info[k])) info[k] = '';
  reorder(info, nodeInfoKeys);
  reorder(status, [
    'capacity',
    'allocatable',
    'phase',
    'conditions',
    'addresses',
    'daemonEndpoints',
    'nodeInfo',
    'images',
    'volumesInUse',
    'volumesAttached',
    'config',
  ]);
}

function defaultEndpoints(obj: JsonObject): void {
  for (const subset of objects(obj['subsets'])) {
    for (const port of objects(subset['ports'])) {
      setDefault(port, 'protocol', 'TCP');
      reorder(port, ['name', 'port', 'protocol', 'appProtocol']);
    }
    reorder(subset, ['addresses', 'notReadyAddresses', 'ports']);
  }
}

function defaultEndpointSlice(obj: JsonObject): void {
  for (const ep of objects(obj['endpoints'])) {
    if (absent(ep['conditions'])) ep['conditions'] = {};
    reorder(ep, [
      'addresses',
      'conditions',
      'hostname',
      'targetRef',
      'deprecatedTopology',
      'nodeName',
      'zone',
      'hints',
    ]);
  }
  for (const port of objects(obj['ports'])) {
    if (absent(port['name'])) port['name'] = '';
    if (absent(port['protocol'])) port['protocol'] = 'TCP';
    reorder(port, ['name', 'protocol', 'port', 'appProtocol']);
  }
}

function defaultLease(obj: JsonObject): void {
  const spec = child(obj, 'spec');
  canonicalTimeField(spec, 'acquireTime', true);
  canonicalTimeField(spec, 'renewTime', true);
  reorder(spec, ['holderIdentity', 'leaseDurationSeconds', 'acquireTime', 'renewTime', 'leaseTransitions']);
}

/** Events are stored in core/v1 form: every Go-serialized field present, times in canonical form. */
function defaultEvent(obj: JsonObject): void {
  const normalized = normalizeCoreEvent(obj);
  for (const k of Object.keys(obj)) delete obj[k];
  Object.assign(obj, normalized);
  canonicalTimeField(obj, 'firstTimestamp', false);
  canonicalTimeField(obj, 'lastTimestamp', false);
  canonicalTimeField(obj, 'eventTime', true);
  const series = objOf(obj['series']);
  if (series) canonicalTimeField(series, 'lastObservedTime', true);
}

function hpaScalingRules(rules: Json | undefined, up: boolean): JsonObject {
  const from = objOf(rules) ?? {};
  const out: JsonObject = {};
  if (!absent(from['stabilizationWindowSeconds']))
    out['stabilizationWindowSeconds'] = from['stabilizationWindowSeconds'] ?? 0;
  else if (up) out['stabilizationWindowSeconds'] = 0;
  out['selectPolicy'] = absent(from['selectPolicy']) ? 'Max' : (from['selectPolicy'] ?? 'Max');
  out['policies'] = Array.isArray(from['policies'])
    ? from['policies']
    : up
      ? [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ]
      : [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  return out;
}

function defaultHpa(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = child(obj, 'spec');
  if (absent(spec['minReplicas'])) spec['minReplicas'] = 1;
  if (!Array.isArray(spec['metrics']) || spec['metrics'].length === 0) {
    spec['metrics'] = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ];
  }
  for (const m of objects(spec['metrics'])) {
    for (const src of ['object', 'pods', 'resource', 'containerResource', 'external']) {
      const target = objOf(objOf(m[src])?.['target']);
      if (!target) continue;
      for (const k of ['value', 'averageValue']) {
        const c = absent(target[k]) ? undefined : canonicalQuantity(target[k]);
        if (c !== undefined) target[k] = c;
      }
      reorder(target, ['type', 'value', 'averageValue', 'averageUtilization']);
    }
  }
  const behavior = objOf(spec['behavior']);
  if (behavior) {
    behavior['scaleUp'] = hpaScalingRules(behavior['scaleUp'], true);
    behavior['scaleDown'] = hpaScalingRules(behavior['scaleDown'], false);
  }
  reorder(spec, ['scaleTargetRef', 'minReplicas', 'maxReplicas', 'metrics', 'behavior']);
  if (!old) obj['status'] = {};
  const status = child(obj, 'status');
  if (absent(status['desiredReplicas'])) status['desiredReplicas'] = 0;
}

function defaultSecret(obj: JsonObject): void {
  setDefault(obj, 'type', 'Opaque');
  const stringData = objOf(obj['stringData']);
  if (stringData) {
    const data = child(obj, 'data');
    for (const [k, v] of Object.entries(stringData))
      data[k] = Buffer.from(strOf(v), 'utf8').toString('base64');
    delete obj['stringData'];
  }
}

/**
 * Fills every server-side default of a built-in object identified as `<apiVersion>/<kind>` (e.g.
 * `apps/v1/Deployment`), in place. `old` is the stored object on updates (create-only steps are skipped,
 * allocated Service values carried over). Returns a failure with kube's causes when a Service's clusterIP
 * or nodePort cannot be allocated; otherwise ok (undefined for kinds without defaults).
 */
export function applyBuiltinDefaults(
  apiVersionKind: string,
  obj: JsonObject,
  ctx: DefaultsContext,
  old?: JsonObject,
): DefaultsResult {
  switch (apiVersionKind) {
    case 'apps/v1/Deployment':
      defaultDeployment(obj, old);
      return { ok: true };
    case 'apps/v1/ReplicaSet':
      defaultReplicaSet(obj, old);
      return { ok: true };
    case 'apps/v1/DaemonSet':
      defaultDaemonSet(obj, old);
      return { ok: true };
    case 'v1/Pod':
      defaultPod(obj, ctx, old);
      return { ok: true };
    case 'v1/Service':
      return defaultService(obj, ctx, old);
    case 'v1/Namespace':
      defaultNamespace(obj, old);
      return { ok: true };
    case 'v1/Secret':
      defaultSecret(obj);
      return { ok: true };
    case 'v1/Node':
      defaultNode(obj, old);
      return { ok: true };
    case 'v1/Endpoints':
      defaultEndpoints(obj);
      return { ok: true };
    case 'discovery.k8s.io/v1/EndpointSlice':
      defaultEndpointSlice(obj);
      return { ok: true };
    case 'coordination.k8s.io/v1/Lease':
      defaultLease(obj);
      return { ok: true };
    case 'v1/Event':
    case 'events.k8s.io/v1/Event':
      defaultEvent(obj);
      return { ok: true };
    case 'autoscaling/v2/HorizontalPodAutoscaler':
      defaultHpa(obj, old);
      return { ok: true };
    default:
      return undefined;
  }
}
