// Row printers of the built-in resources the sandbox serves, computing the cells kube-apiserver
// v1.26 sends (it prints every column, priority 1 included, as for `kubectl get -o wide`).
import { formatLabelSelector, labelSelectorFromObject } from '../selectors.js';
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';
import {
  CONFIG_MAP_COLUMNS,
  DAEMON_SET_COLUMNS,
  DEFAULT_COLUMNS,
  DEPLOYMENT_COLUMNS,
  ENDPOINT_SLICE_COLUMNS,
  ENDPOINTS_COLUMNS,
  EVENT_COLUMNS,
  HPA_COLUMNS,
  LEASE_COLUMNS,
  NAMESPACE_COLUMNS,
  NODE_COLUMNS,
  POD_COLUMNS,
  REPLICA_SET_COLUMNS,
  SECRET_COLUMNS,
  SERVICE_ACCOUNT_COLUMNS,
  SERVICE_COLUMNS,
  type ColumnDefinition,
} from './columns.js';
import { ageSince, humanDuration, parseRfc3339Ms } from './duration.js';
import type { PrintedRow, Printer } from './printer.js';
import { at, formatLabels, int, list, obj, size, str } from './values.js';

type RowFn = (o: JsonObject, nowMs: number) => PrintedRow;

function printer(columns: readonly ColumnDefinition[], print: RowFn): Printer {
  return { columns, print, emptyRows: [] };
}

const name = (o: JsonObject): string => str(at(o, 'metadata', 'name'));
const age = (o: JsonObject, nowMs: number): string => ageSince(at(o, 'metadata', 'creationTimestamp'), nowMs);

/** Containers and images of a pod template, each joined by `,` (layoutContainerCells). */
function containerCells(podSpec: Json | undefined): [string, string] {
  const containers = list(at(podSpec, 'containers'));
  return [
    containers.map((c) => str(at(c, 'name'))).join(','),
    containers.map((c) => str(at(c, 'image'))).join(','),
  ];
}

/** metav1.FormatLabelSelector: `<none>` for an empty selector, `<error>` for an invalid one. */
function formatSelectorOrNone(selector: Json | undefined): string {
  const parsed = labelSelectorFromObject(isObject(selector) ? selector : undefined);
  if (!parsed.ok) return '<error>';
  const text = formatLabelSelector(parsed.value);
  return text === '' ? '<none>' : text;
}

const printDeployment: RowFn = (o, nowMs) => {
  const status = at(o, 'status');
  // LabelSelectorAsSelector(...).String(): '' for an absent or empty selector, no `<none>` here.
  const parsed = labelSelectorFromObject(obj(at(o, 'spec', 'selector')));
  const selector = parsed.ok ? formatLabelSelector(parsed.value) : '<invalid>';
  const [containers, images] = containerCells(at(o, 'spec', 'template', 'spec'));
  return {
    cells: [
      name(o),
      `${int(at(status, 'readyReplicas'))}/${int(at(o, 'spec', 'replicas'))}`,
      int(at(status, 'updatedReplicas')),
      int(at(status, 'availableReplicas')),
      age(o, nowMs),
      containers,
      images,
      selector,
    ],
  };
};

const printReplicaSet: RowFn = (o, nowMs) => {
  const [containers, images] = containerCells(at(o, 'spec', 'template', 'spec'));
  return {
    cells: [
      name(o),
      int(at(o, 'spec', 'replicas')),
      int(at(o, 'status', 'replicas')),
      int(at(o, 'status', 'readyReplicas')),
      age(o, nowMs),
      containers,
      images,
      formatSelectorOrNone(at(o, 'spec', 'selector')),
    ],
  };
};

const printDaemonSet: RowFn = (o, nowMs) => {
  const status = at(o, 'status');
  const [containers, images] = containerCells(at(o, 'spec', 'template', 'spec'));
  return {
    cells: [
      name(o),
      int(at(status, 'desiredNumberScheduled')),
      int(at(status, 'currentNumberScheduled')),
      int(at(status, 'numberReady')),
      int(at(status, 'updatedNumberScheduled')),
      int(at(status, 'numberAvailable')),
      formatLabels(at(o, 'spec', 'template', 'spec', 'nodeSelector')),
      age(o, nowMs),
      containers,
      images,
      formatSelectorOrNone(at(o, 'spec', 'selector')),
    ],
  };
};

const POD_SUCCEEDED_CONDITIONS: JsonObject[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const POD_FAILED_CONDITIONS: JsonObject[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

/** The STATUS, READY and RESTARTS of `kubectl get pods`, computed from container statuses. */
const printPod: RowFn = (o, nowMs) => {
  const spec = at(o, 'spec');
  const status = at(o, 'status');
  const phase = str(at(status, 'phase'));
  let reason = str(at(status, 'reason')) || phase;
  let restarts = 0;
  let readyContainers = 0;
  let lastRestartMs: number | undefined;
  const noteTermination = (c: Json): void => {
    const finished = at(c, 'lastState', 'terminated', 'finishedAt');
    if (at(c, 'lastState', 'terminated') === undefined) return;
    const t = typeof finished === 'string' ? parseRfc3339Ms(finished) : undefined;
    if (t !== undefined && (lastRestartMs === undefined || t > lastRestartMs)) lastRestartMs = t;
  };

  let initializing = false;
  const initStatuses = list(at(status, 'initContainerStatuses'));
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? null;
    restarts += int(at(c, 'restartCount'));
    noteTermination(c);
    const terminated = at(c, 'state', 'terminated');
    const waitingReason = str(at(c, 'state', 'waiting', 'reason'));
    if (isObject(terminated) && int(terminated.exitCode) === 0) continue;
    if (isObject(terminated)) {
      const why = str(terminated.reason);
      if (why !== '') reason = `Init:${why}`;
      else if (int(terminated.signal) !== 0) reason = `Init:Signal:${int(terminated.signal)}`;
      else reason = `Init:ExitCode:${int(terminated.exitCode)}`;
    } else if (waitingReason !== '' && waitingReason !== 'PodInitializing') {
      reason = `Init:${waitingReason}`;
    } else {
      reason = `Init:${i}/${list(at(spec, 'initContainers')).length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    const statuses = list(at(status, 'containerStatuses'));
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? null;
      restarts += int(at(c, 'restartCount'));
      noteTermination(c);
      const waitingReason = str(at(c, 'state', 'waiting', 'reason'));
      const terminated = at(c, 'state', 'terminated');
      if (waitingReason !== '') {
        reason = waitingReason;
      } else if (isObject(terminated) && str(terminated.reason) !== '') {
        reason = str(terminated.reason);
      } else if (isObject(terminated)) {
        reason =
          int(terminated.signal) !== 0
            ? `Signal:${int(terminated.signal)}`
            : `ExitCode:${int(terminated.exitCode)}`;
      } else if (at(c, 'ready') === true && isObject(at(c, 'state', 'running'))) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = list(at(status, 'conditions')).some(
        (cond) => at(cond, 'type') === 'Ready' && at(cond, 'status') === 'True',
      );
      reason = podReady ? 'Running' : 'NotReady';
    }
  }
  if (
    at(o, 'metadata', 'deletionTimestamp') !== undefined &&
    at(o, 'metadata', 'deletionTimestamp') !== null
  ) {
    reason = str(at(status, 'reason')) === 'NodeLost' ? 'Unknown' : 'Terminating';
  }
  const restartsText =
    lastRestartMs === undefined
      ? String(restarts)
      : `${restarts} (${humanDuration(nowMs - lastRestartMs)} ago)`;

  const podIP = str(at(list(at(status, 'podIPs'))[0], 'ip')) || '<none>';
  const nodeName = str(at(spec, 'nodeName')) || '<none>';
  const nominated = str(at(status, 'nominatedNodeName')) || '<none>';
  let readinessGates = '<none>';
  const gates = list(at(spec, 'readinessGates'));
  if (gates.length > 0) {
    const conditions = list(at(status, 'conditions'));
    let trueConditions = 0;
    for (const gate of gates) {
      const found = conditions.find((c) => at(c, 'type') === at(gate, 'conditionType'));
      if (found !== undefined && at(found, 'status') === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  const row: PrintedRow = {
    cells: [
      name(o),
      `${readyContainers}/${list(at(spec, 'containers')).length}`,
      reason,
      restartsText,
      age(o, nowMs),
      podIP,
      nodeName,
      nominated,
      readinessGates,
    ],
  };
  if (phase === 'Succeeded') row.conditions = structuredClone(POD_SUCCEEDED_CONDITIONS);
  if (phase === 'Failed') row.conditions = structuredClone(POD_FAILED_CONDITIONS);
  return row;
};

/** Load-balancer ingress IPs (or hostnames), deduplicated and sorted, joined by `,`. */
function loadBalancerStatus(status: Json | undefined): string {
  const seen = new Set<string>();
  for (const ingress of list(at(status, 'ingress'))) {
    const value = str(at(ingress, 'ip')) || str(at(ingress, 'hostname'));
    if (value !== '') seen.add(value);
  }
  return [...seen].sort().join(',');
}

function serviceExternalIP(o: JsonObject): string {
  const externalIPs = list(at(o, 'spec', 'externalIPs')).map(str);
  switch (str(at(o, 'spec', 'type'))) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerStatus(at(o, 'status', 'loadBalancer'));
      if (externalIPs.length > 0) return [...(lb === '' ? [] : lb.split(',')), ...externalIPs].join(',');
      return lb === '' ? '<pending>' : lb;
    }
    case 'ExternalName':
      return str(at(o, 'spec', 'externalName'));
    default:
      return '<unknown>';
  }
}

const printService: RowFn = (o, nowMs) => {
  const ports = list(at(o, 'spec', 'ports')).map((p) => {
    const nodePort = int(at(p, 'nodePort'));
    const proto = str(at(p, 'protocol'));
    return nodePort > 0 ? `${int(at(p, 'port'))}:${nodePort}/${proto}` : `${int(at(p, 'port'))}/${proto}`;
  });
  return {
    cells: [
      name(o),
      str(at(o, 'spec', 'type')),
      str(list(at(o, 'spec', 'clusterIPs'))[0]) || '<none>',
      serviceExternalIP(o),
      ports.length > 0 ? ports.join(',') : '<none>',
      age(o, nowMs),
      formatLabels(at(o, 'spec', 'selector')),
    ],
  };
};

const printConfigMap: RowFn = (o, nowMs) => ({
  cells: [name(o), size(at(o, 'data')) + size(at(o, 'binaryData')), age(o, nowMs)],
});

const printSecret: RowFn = (o, nowMs) => ({
  cells: [name(o), str(at(o, 'type')), size(at(o, 'data')), age(o, nowMs)],
});

const printServiceAccount: RowFn = (o, nowMs) => ({
  cells: [name(o), list(at(o, 'secrets')).length, age(o, nowMs)],
});

const printNamespace: RowFn = (o, nowMs) => ({
  cells: [name(o), str(at(o, 'status', 'phase')), age(o, nowMs)],
});

const printLease: RowFn = (o, nowMs) => ({
  cells: [name(o), str(at(o, 'spec', 'holderIdentity')), age(o, nowMs)],
});

/** Up to three items joined by `,`, then ` + N more...`; `<unset>` when there are none. */
function listWithMore(items: string[], max = 3): string {
  const shown = items.slice(0, max).join(',');
  if (items.length > max) return `${shown} + ${items.length - max} more...`;
  return shown === '' ? '<unset>' : shown;
}

const printEndpointSlice: RowFn = (o, nowMs) => {
  const ports = list(at(o, 'ports')).map((p) => {
    const port = at(p, 'port');
    if (typeof port === 'number') return String(port);
    const portName = at(p, 'name');
    return typeof portName === 'string' ? portName : '*';
  });
  const addresses = list(at(o, 'endpoints')).flatMap((e) => list(at(e, 'addresses')).map(str));
  return {
    cells: [name(o), str(at(o, 'addressType')), listWithMore(ports), listWithMore(addresses), age(o, nowMs)],
  };
};

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints with every port: `ip:port` for the first three, then ` + N more...`. */
function formatEndpoints(subsets: Json[]): string {
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = list(at(subset, 'addresses'));
    const ports = list(at(subset, 'ports'));
    if (ports.length === 0) {
      for (const a of addresses) {
        if (shown.length < 3) shown.push(str(at(a, 'ip')));
        count++;
      }
      continue;
    }
    for (const p of ports) {
      for (const a of addresses) {
        if (shown.length < 3) shown.push(joinHostPort(str(at(a, 'ip')), int(at(p, 'port'))));
        count++;
      }
    }
  }
  const text = shown.join(',');
  return count > 3 ? `${text} + ${count - 3} more...` : text;
}

const printEndpoints: RowFn = (o, nowMs) => ({
  cells: [name(o), formatEndpoints(list(at(o, 'subsets'))), age(o, nowMs)],
});

function nodeRoles(labels: Json | undefined): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(obj(labels))) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (key === 'kubernetes.io/role' && str(value) !== '') {
      roles.add(str(value));
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeAddress(o: JsonObject, type: string): string {
  const found = list(at(o, 'status', 'addresses')).find((a) => at(a, 'type') === type);
  return found === undefined ? '<none>' : str(at(found, 'address'));
}

const printNode: RowFn = (o, nowMs) => {
  const ready = list(at(o, 'status', 'conditions'))
    .filter((c) => at(c, 'type') === 'Ready')
    .pop();
  const status: string[] = [];
  if (ready !== undefined) status.push(at(ready, 'status') === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (at(o, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  const info = at(o, 'status', 'nodeInfo');
  return {
    cells: [
      name(o),
      status.join(','),
      nodeRoles(at(o, 'metadata', 'labels')),
      age(o, nowMs),
      str(at(info, 'kubeletVersion')),
      nodeAddress(o, 'InternalIP'),
      nodeAddress(o, 'ExternalIP'),
      str(at(info, 'osImage')) || '<unknown>',
      str(at(info, 'kernelVersion')) || '<unknown>',
      str(at(info, 'containerRuntimeVersion')) || '<unknown>',
    ],
  };
};

/** An Event's fields in core/v1 terms, read from a core/v1 or an events.k8s.io/v1 object. */
function coreEventView(o: JsonObject): JsonObject {
  if (!str(at(o, 'apiVersion')).startsWith('events.k8s.io/')) return o;
  const view: JsonObject = {
    metadata: obj(at(o, 'metadata')),
    involvedObject: obj(at(o, 'regarding')),
    reason: at(o, 'reason') ?? '',
    message: at(o, 'note') ?? '',
    source: obj(at(o, 'deprecatedSource')),
    firstTimestamp: at(o, 'deprecatedFirstTimestamp') ?? null,
    lastTimestamp: at(o, 'deprecatedLastTimestamp') ?? null,
    count: at(o, 'deprecatedCount') ?? 0,
    type: at(o, 'type') ?? '',
    eventTime: at(o, 'eventTime') ?? null,
    reportingComponent: at(o, 'reportingController') ?? '',
    reportingInstance: at(o, 'reportingInstance') ?? '',
  };
  const series = at(o, 'series');
  if (isObject(series)) view.series = series;
  return view;
}

function isZeroTime(value: Json | undefined): boolean {
  if (typeof value !== 'string' || value === '') return true;
  return parseRfc3339Ms(value) === parseRfc3339Ms('0001-01-01T00:00:00Z');
}

const printEvent: RowFn = (raw, nowMs) => {
  const o = coreEventView(raw);
  let firstSeen = ageSince(at(o, 'firstTimestamp'), nowMs);
  if (isZeroTime(at(o, 'firstTimestamp'))) firstSeen = ageSince(at(o, 'eventTime'), nowMs);
  let lastSeen = ageSince(at(o, 'lastTimestamp'), nowMs);
  if (isZeroTime(at(o, 'lastTimestamp'))) lastSeen = firstSeen;
  let count = int(at(o, 'count'));
  const series = at(o, 'series');
  if (isObject(series)) {
    lastSeen = ageSince(series.lastObservedTime, nowMs);
    count = int(series.count);
  } else if (count === 0) {
    count = 1;
  }
  const involved = at(o, 'involvedObject');
  const kind = str(at(involved, 'kind')).toLowerCase();
  const involvedName = str(at(involved, 'name'));
  const component = str(at(o, 'source', 'component')) || str(at(o, 'reportingComponent'));
  const instance = str(at(o, 'source', 'host')) || str(at(o, 'reportingInstance'));
  return {
    cells: [
      lastSeen,
      str(at(o, 'type')),
      str(at(o, 'reason')),
      involvedName !== '' ? `${kind}/${involvedName}` : kind,
      str(at(involved, 'fieldPath')),
      instance === '' ? component : `${component}, ${instance}`,
      str(at(o, 'message')).trim(),
      firstSeen,
      count,
      str(at(o, 'metadata', 'name')),
    ],
  };
};

/** A quantity field as Quantity.String() prints it (a nil *Quantity prints `<nil>`). */
function quantity(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return '<nil>';
}

/** spec.metrics and status.currentMetrics in autoscaling/v2 form, from a v1 or v2 object. */
function hpaMetrics(o: JsonObject): { specs: Json[]; statuses: Json[] } {
  if (str(at(o, 'apiVersion')) !== 'autoscaling/v1') {
    return { specs: list(at(o, 'spec', 'metrics')), statuses: list(at(o, 'status', 'currentMetrics')) };
  }
  const target = at(o, 'spec', 'targetCPUUtilizationPercentage');
  const current = at(o, 'status', 'currentCPUUtilizationPercentage');
  const specs: Json[] =
    typeof target === 'number'
      ? [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
          },
        ]
      : [];
  const statuses: Json[] =
    typeof current === 'number'
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }]
      : [];
  return { specs, statuses };
}

/** The TARGETS cell: `current/target` per metric, two at most, then ` + N more...`. */
function formatHpaMetrics(specs: Json[], statuses: Json[]): string {
  if (specs.length === 0) return '<none>';
  const items = specs.map((spec, i) => {
    const status = statuses[i];
    const type = str(at(spec, 'type'));
    switch (type) {
      case 'External':
      case 'Object': {
        const key = type === 'External' ? 'external' : 'object';
        const target = at(spec, key, 'target');
        const source = at(status, key);
        if (at(target, 'averageValue') !== undefined) {
          const avg = at(source, 'current', 'averageValue');
          const current = isObject(source) && avg !== undefined ? quantity(avg) : '<unknown>';
          return `${current}/${quantity(at(target, 'averageValue'))} (avg)`;
        }
        const current = isObject(source) ? quantity(at(source, 'current', 'value')) : '<unknown>';
        return `${current}/${quantity(at(target, 'value'))}`;
      }
      case 'Pods': {
        const source = at(status, 'pods');
        const current = isObject(source) ? quantity(at(source, 'current', 'averageValue')) : '<unknown>';
        return `${current}/${quantity(at(spec, 'pods', 'target', 'averageValue'))}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = type === 'Resource' ? 'resource' : 'containerResource';
        const target = at(spec, key, 'target');
        const source = at(status, key);
        if (at(target, 'averageValue') !== undefined) {
          const current = isObject(source) ? quantity(at(source, 'current', 'averageValue')) : '<unknown>';
          return `${current}/${quantity(at(target, 'averageValue'))}`;
        }
        const util = at(source, 'current', 'averageUtilization');
        const current = isObject(source) && typeof util === 'number' ? `${util}%` : '<unknown>';
        const targetUtil = at(target, 'averageUtilization');
        return `${current}/${typeof targetUtil === 'number' ? `${targetUtil}%` : '<auto>'}`;
      }
      default:
        return '<unknown type>';
    }
  });
  if (items.length > 2) return `${items.slice(0, 2).join(', ')} + ${items.length - 2} more...`;
  return items.join(', ');
}

const printHpa: RowFn = (o, nowMs) => {
  const { specs, statuses } = hpaMetrics(o);
  const minReplicas = at(o, 'spec', 'minReplicas');
  return {
    cells: [
      name(o),
      `${str(at(o, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(o, 'spec', 'scaleTargetRef', 'name'))}`,
      formatHpaMetrics(specs, statuses),
      typeof minReplicas === 'number' ? String(Math.trunc(minReplicas)) : '<unset>',
      int(at(o, 'spec', 'maxReplicas')),
      int(at(o, 'status', 'currentReplicas')),
      age(o, nowMs),
    ],
  };
};

/** rest.NewDefaultTableConvertor: the name and the creation time in RFC 3339, UTC. */
export const DEFAULT_PRINTER: Printer = {
  columns: DEFAULT_COLUMNS,
  emptyRows: null,
  print: (o) => {
    const created = at(o, 'metadata', 'creationTimestamp');
    const ms = typeof created === 'string' ? parseRfc3339Ms(created) : undefined;
    const text =
      ms === undefined ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { cells: [name(o), text] };
  },
};

/** Printers keyed by `group/resource` ('' for the core group). */
const BUILTIN_PRINTERS: ReadonlyMap<string, Printer> = new Map([
  ['apps/deployments', printer(DEPLOYMENT_COLUMNS, printDeployment)],
  ['apps/replicasets', printer(REPLICA_SET_COLUMNS, printReplicaSet)],
  ['apps/daemonsets', printer(DAEMON_SET_COLUMNS, printDaemonSet)],
  ['/pods', printer(POD_COLUMNS, printPod)],
  ['/services', printer(SERVICE_COLUMNS, printService)],
  ['/configmaps', printer(CONFIG_MAP_COLUMNS, printConfigMap)],
  ['/secrets', printer(SECRET_COLUMNS, printSecret)],
  ['/serviceaccounts', printer(SERVICE_ACCOUNT_COLUMNS, printServiceAccount)],
  ['/namespaces', printer(NAMESPACE_COLUMNS, printNamespace)],
  ['/events', printer(EVENT_COLUMNS, printEvent)],
  ['events.k8s.io/events', printer(EVENT_COLUMNS, printEvent)],
  ['coordination.k8s.io/leases', printer(LEASE_COLUMNS, printLease)],
  ['discovery.k8s.io/endpointslices', printer(ENDPOINT_SLICE_COLUMNS, printEndpointSlice)],
  ['/endpoints', printer(ENDPOINTS_COLUMNS, printEndpoints)],
  ['/nodes', printer(NODE_COLUMNS, printNode)],
  ['autoscaling/horizontalpodautoscalers', printer(HPA_COLUMNS, printHpa)],
]);

/** The printer of a built-in resource; resources without one get the default convertor. */
export function builtinPrinter(group: string, resource: string): Printer {
  return BUILTIN_PRINTERS.get(`${group}/${resource}`) ?? DEFAULT_PRINTER;
}
