// kube-controller-manager's Deployment, ReplicaSet, DaemonSet, EndpointSlice and Endpoints controllers,
// in-process: store events queue keys; each sync reads the store, asks the pure cores, writes through the Api.
import { isDeepStrictEqual } from 'node:util';
import type { Api } from '../api.js';
import type { DResult } from '../meta.js';
import { timestamp } from '../meta.js';
import type { Registry } from '../registry.js';
import { storageKey } from '../registry.js';
import type { StoreEvent } from '../store.js';
import type { JsonObject, ResourceType } from '../types.js';
import { clone } from '../types.js';
import { nodePlacement, planDaemonSet } from './daemonset.js';
import {
  planDeployment,
  replicaSetCreateFailed,
  templatesEqualIgnoringHash,
  withCollision,
} from './deployment.js';
import {
  desiredEndpoints,
  desiredSlices,
  managesService,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  planEndpointSlices,
  selectedPods,
  serviceSelector,
  SERVICE_NAME_LABEL,
  TriggerTimes,
} from './endpoints.js';
import {
  controlledBy,
  controllerOf,
  controllerRef,
  isDeleting,
  labelsAt,
  mapSelectorMatches,
  metaAt,
  mutObj,
  nameAt,
  namespaceAt,
  objAt,
  selectorMatches,
  specAt,
  strAt,
  uidAt,
} from './objects.js';
import type { ManageFailure } from './replicaset.js';
import { planReplicaSet, podFromTemplate, replicaSetStatus, withOwner } from './replicaset.js';
import type { SyncOutcome } from './work-queue.js';
import { WorkQueue } from './work-queue.js';

interface WorkloadTypes {
  deployments: ResourceType;
  replicasets: ResourceType;
  daemonsets: ResourceType;
  pods: ResourceType;
  services: ResourceType;
  endpoints: ResourceType;
  endpointslices: ResourceType;
  nodes: ResourceType;
}

function workloadTypes(registry: Registry): WorkloadTypes {
  const need = (group: string, version: string, resource: string): ResourceType => {
    const t = registry.lookup(group, version, resource);
    if (!t) throw new Error(`sandbox registry does not serve ${group}/${version}/${resource}`);
    return t;
  };
  return {
    deployments: need('apps', 'v1', 'deployments'),
    replicasets: need('apps', 'v1', 'replicasets'),
    daemonsets: need('apps', 'v1', 'daemonsets'),
    pods: need('', 'v1', 'pods'),
    services: need('', 'v1', 'services'),
    endpoints: need('', 'v1', 'endpoints'),
    endpointslices: need('discovery.k8s.io', 'v1', 'endpointslices'),
    nodes: need('', 'v1', 'nodes'),
  };
}

type Kind = 'deploy' | 'rs' | 'ds' | 'eps' | 'ep';
const RETRY: SyncOutcome = { retry: true };
/** Pods whose Node is missing are left out of EndpointSlices; look again after this long. */
const MISSING_NODE_RETRY_MS = 1_000;

const rvOf = (o: JsonObject): string => strAt(metaAt(o).resourceVersion);

function namespaceTerminating<T>(r: DResult<T>): boolean {
  return (
    !r.ok &&
    r.error.code === 403 &&
    (r.error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')
  );
}

/** Starts the controllers; the returned function stops them (pending work is dropped). */
export function startWorkloadControllers(api: Api): () => void {
  const t = workloadTypes(api.registry);
  const store = api.store;
  const keys = {
    deployments: storageKey(t.deployments),
    replicasets: storageKey(t.replicasets),
    daemonsets: storageKey(t.daemonsets),
    pods: storageKey(t.pods),
    services: storageKey(t.services),
    endpoints: storageKey(t.endpoints),
    endpointslices: storageKey(t.endpointslices),
    nodes: storageKey(t.nodes),
  };
  const sliceTriggers = new TriggerTimes();
  const endpointsTriggers = new TriggerTimes();
  /** The Service whose slices or Endpoints the running sync is writing: its own events are not news. */
  let writingFor: string | undefined;

  const keyOf = (kind: Kind, namespace: string, name: string): string => `${kind}|${namespace}|${name}`;
  const queue = new WorkQueue(
    (key) => {
      const [kind, namespace, name] = key.split('|') as [Kind, string, string];
      switch (kind) {
        case 'deploy':
          return syncDeployment(namespace, name);
        case 'rs':
          return syncReplicaSet(namespace, name);
        case 'ds':
          return syncDaemonSet(namespace, name);
        case 'eps':
          return syncEndpointSlices(namespace, name);
        case 'ep':
          return syncEndpoints(namespace, name);
      }
      return undefined;
    },
    {
      onError: (key, err) => process.emitWarning(`workload controller sync of ${key} failed: ${String(err)}`),
    },
  );
  const enqueue = (kind: Kind, namespace: string, name: string): void =>
    queue.add(keyOf(kind, namespace, name));

  /** Writes a new status (and for Deployments, annotations) onto the object `read` unless it changed since. */
  function writeStatus(
    type: ResourceType,
    read: JsonObject,
    status: JsonObject,
    annotations?: Record<string, string>,
  ): boolean {
    const cur = store.get(storageKey(type), namespaceAt(read) || undefined, nameAt(read));
    if (!cur) return true;
    if (rvOf(cur) !== rvOf(read)) return false;
    const next = clone(cur);
    if (annotations !== undefined) {
      const meta = mutObj(next, 'metadata');
      if (Object.keys(annotations).length > 0) meta.annotations = { ...annotations };
      else delete meta.annotations;
    }
    next.status = status;
    if (isDeepStrictEqual(next, cur)) return true;
    api.putDirect(type, next);
    return true;
  }

  // ------------------------------------------------------------------------- Deployments

  /** The ReplicaSets the Deployment controls, adopting matching orphans and releasing strays. */
  function claimReplicaSets(d: JsonObject): JsonObject[] | undefined {
    const ns = namespaceAt(d);
    const uid = uidAt(d);
    const selector = objAt(specAt(d).selector);
    const deleting = isDeleting(d);
    const owned: JsonObject[] = [];
    let failed = false;
    for (const rs of store.list(keys.replicasets, ns)) {
      const matches = selectorMatches(selector, labelsAt(rs));
      const ref = controllerOf(rs);
      if (ref) {
        if (strAt(ref.uid) !== uid) continue;
        if (matches) owned.push(rs);
        else if (!deleting) {
          const r = api.update(t.replicasets, ns, nameAt(rs), '', withOwner(rs, { releaseUid: uid }));
          if (!r.ok && r.error.code !== 404) failed = true;
        }
        continue;
      }
      if (deleting || !matches || isDeleting(rs)) continue;
      const r = api.update(
        t.replicasets,
        ns,
        nameAt(rs),
        '',
        withOwner(rs, { add: controllerRef(d, 'apps/v1', 'Deployment') }),
      );
      const adopted = r.ok ? store.get(keys.replicasets, ns, nameAt(rs)) : undefined;
      if (adopted) owned.push(adopted);
      else failed = true;
    }
    return failed ? undefined : owned;
  }

  function syncDeployment(ns: string, name: string): SyncOutcome | undefined {
    const d = store.get(keys.deployments, ns, name);
    if (!d) return undefined;
    const sets = claimReplicaSets(d);
    if (!sets) return RETRY;
    const plan = planDeployment({
      deployment: d,
      replicaSets: sets,
      pods: store.list(keys.pods, ns),
      nowMs: api.now(),
    });
    for (const w of plan.writes) {
      const rsName = nameAt(w.rs);
      if (w.op === 'create') {
        const r = api.create(t.replicasets, ns, w.rs);
        if (r.ok) continue;
        if (namespaceTerminating(r)) return undefined;
        if (r.error.code === 409) {
          const existing = store.get(keys.replicasets, ns, rsName);
          const ours =
            existing !== undefined &&
            controlledBy(existing, uidAt(d)) &&
            templatesEqualIgnoringHash(objAt(specAt(existing).template), objAt(specAt(d).template));
          // A different ReplicaSet holds the name: a hash collision, resolved by a new collisionCount.
          if (!ours) writeStatus(t.deployments, d, withCollision(d));
          return RETRY;
        }
        writeStatus(t.deployments, d, replicaSetCreateFailed(d, rsName, r.error.message, api.now()));
        return RETRY;
      }
      if (w.op === 'update') {
        const r = api.update(t.replicasets, ns, rsName, '', w.rs);
        if (!r.ok) return r.error.code === 404 ? undefined : RETRY;
        continue;
      }
      const r = api.delete(t.replicasets, ns, rsName, { preconditions: { uid: uidAt(w.rs) } });
      if (!r.ok && r.error.code !== 404 && r.error.code !== 409) return RETRY;
    }
    if (
      plan.deployment &&
      !writeStatus(t.deployments, d, plan.deployment.status, plan.deployment.annotations)
    )
      return RETRY;
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  // ------------------------------------------------------------------------- ReplicaSets

  function syncReplicaSet(ns: string, name: string): SyncOutcome | undefined {
    const rs = store.get(keys.replicasets, ns, name);
    if (!rs) return undefined;
    const plan = planReplicaSet(rs, store.list(keys.pods, ns));
    let claimFailed = false;
    for (const pod of plan.adopt) {
      const r = api.update(
        t.pods,
        ns,
        nameAt(pod),
        '',
        withOwner(pod, { add: controllerRef(rs, 'apps/v1', 'ReplicaSet') }),
      );
      if (!r.ok) claimFailed = true;
    }
    for (const pod of plan.release) {
      const r = api.update(t.pods, ns, nameAt(pod), '', withOwner(pod, { releaseUid: uidAt(rs) }));
      if (!r.ok && r.error.code !== 404) claimFailed = true;
    }
    if (claimFailed) return RETRY;
    let failure: ManageFailure | undefined;
    for (let i = 0; i < plan.create; i++) {
      const r = api.create(t.pods, ns, podFromTemplate(rs));
      if (r.ok) continue;
      if (!namespaceTerminating(r)) failure = { reason: 'FailedCreate', message: r.error.message };
      break;
    }
    for (const pod of plan.remove) {
      const r = api.delete(t.pods, ns, nameAt(pod));
      if (!r.ok && r.error.code !== 404) failure = { reason: 'FailedDelete', message: r.error.message };
    }
    const now = api.now();
    const { status, requeueAfterMs } = replicaSetStatus(rs, plan.owned, failure, now, timestamp(now));
    if (!writeStatus(t.replicasets, rs, status)) return RETRY;
    if (failure) return RETRY;
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  // ------------------------------------------------------------------------- DaemonSets

  function syncDaemonSet(ns: string, name: string): SyncOutcome | undefined {
    const ds = store.get(keys.daemonsets, ns, name);
    if (!ds) return undefined;
    const plan = planDaemonSet({
      daemonSet: ds,
      nodes: store.list(keys.nodes),
      pods: store.list(keys.pods, ns),
      nowMs: api.now(),
    });
    let failed = false;
    for (const pod of plan.adopt) {
      const r = api.update(
        t.pods,
        ns,
        nameAt(pod),
        '',
        withOwner(pod, { add: controllerRef(ds, 'apps/v1', 'DaemonSet') }),
      );
      if (!r.ok) failed = true;
    }
    for (const pod of plan.release) {
      const r = api.update(t.pods, ns, nameAt(pod), '', withOwner(pod, { releaseUid: uidAt(ds) }));
      if (!r.ok && r.error.code !== 404) failed = true;
    }
    // Placement is planned from the claimed pods: after a failed claim, plan again rather than act.
    if (failed) return RETRY;
    for (const pod of plan.create) {
      const r = api.create(t.pods, ns, pod);
      if (r.ok) continue;
      if (namespaceTerminating(r)) break;
      failed = true;
    }
    for (const pod of plan.remove) {
      const r = api.delete(t.pods, ns, nameAt(pod), { preconditions: { uid: uidAt(pod) } });
      if (!r.ok && r.error.code !== 404 && r.error.code !== 409) failed = true;
    }
    if (plan.status && !writeStatus(t.daemonsets, ds, plan.status)) return RETRY;
    if (failed) return RETRY;
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  // ------------------------------------------------------------------------- Services

  function syncEndpointSlices(ns: string, name: string): SyncOutcome | undefined {
    const svc = store.get(keys.services, ns, name);
    if (!svc) {
      // The slices are owned by the Service: the garbage collector removes them.
      sliceTriggers.forget(ns, name);
      return undefined;
    }
    if (!managesService(svc)) return undefined;
    const pods = selectedPods(svc, store.list(keys.pods, ns));
    const trigger = sliceTriggers.changed(svc, pods);
    const desired = desiredSlices(svc, pods, (node) => store.get(keys.nodes, undefined, node));
    const existing = store.list(keys.endpointslices, ns).filter((s) => {
      const labels = labelsAt(s);
      return labels[SERVICE_NAME_LABEL] === name && labels[MANAGED_BY_LABEL] === MANAGED_BY;
    });
    const plan = planEndpointSlices(svc, existing, desired, trigger);
    let failed = false;
    writingFor = `${ns}/${name}`;
    try {
      for (const s of plan.create) {
        const r = api.create(t.endpointslices, ns, s);
        if (!r.ok && !namespaceTerminating(r)) failed = true;
      }
      for (const s of plan.update) {
        const r = api.update(t.endpointslices, ns, nameAt(s), '', s);
        if (!r.ok) failed = true;
      }
      for (const s of plan.remove) {
        const r = api.delete(t.endpointslices, ns, nameAt(s));
        if (!r.ok && r.error.code !== 404) failed = true;
      }
    } finally {
      writingFor = undefined;
    }
    if (failed) return RETRY;
    return desired.missingNodes ? { requeueAfterMs: MISSING_NODE_RETRY_MS } : undefined;
  }

  function syncEndpoints(ns: string, name: string): SyncOutcome | undefined {
    const svc = store.get(keys.services, ns, name);
    writingFor = `${ns}/${name}`;
    try {
      if (!svc) {
        endpointsTriggers.forget(ns, name);
        if (!store.get(keys.endpoints, ns, name)) return undefined;
        const r = api.delete(t.endpoints, ns, name);
        return !r.ok && r.error.code !== 404 ? RETRY : undefined;
      }
      if (!managesService(svc)) return undefined;
      const pods = selectedPods(svc, store.list(keys.pods, ns));
      const trigger = endpointsTriggers.changed(svc, pods);
      const current = store.get(keys.endpoints, ns, name);
      const next = desiredEndpoints(svc, current, pods, trigger);
      if (!next) return undefined;
      const r = current ? api.update(t.endpoints, ns, name, '', next) : api.create(t.endpoints, ns, next);
      return !r.ok && !namespaceTerminating(r) ? RETRY : undefined;
    } finally {
      writingFor = undefined;
    }
  }

  // ------------------------------------------------------------------------- event routing

  const enqueueOwner = (o: JsonObject | undefined, kind: Kind, ownerKind: string): void => {
    const ref = o ? controllerOf(o) : undefined;
    if (o && ref && ref.kind === ownerKind) enqueue(kind, namespaceAt(o), strAt(ref.name));
  };

  const enqueueServicesOf = (ns: string, pods: (JsonObject | undefined)[]): void => {
    for (const svc of store.list(keys.services, ns)) {
      if (!managesService(svc)) continue;
      const sel = serviceSelector(svc);
      if (pods.some((p) => p !== undefined && mapSelectorMatches(sel, labelsAt(p)))) {
        enqueue('eps', ns, nameAt(svc));
        enqueue('ep', ns, nameAt(svc));
      }
    }
  };

  const onDeployment = (e: StoreEvent): void => {
    if (e.type !== 'DELETED') enqueue('deploy', namespaceAt(e.object), nameAt(e.object));
  };

  const onReplicaSet = (e: StoreEvent): void => {
    const rs = e.object;
    const ns = namespaceAt(rs);
    if (e.type !== 'DELETED') enqueue('rs', ns, nameAt(rs));
    enqueueOwner(rs, 'deploy', 'Deployment');
    enqueueOwner(e.previous, 'deploy', 'Deployment');
    if (e.type !== 'DELETED' && !controllerOf(rs)) {
      for (const d of store.list(keys.deployments, ns)) {
        if (selectorMatches(objAt(specAt(d).selector), labelsAt(rs))) enqueue('deploy', ns, nameAt(d));
      }
    }
  };

  const onPod = (e: StoreEvent): void => {
    const pod = e.object;
    const ns = namespaceAt(pod);
    enqueueOwner(pod, 'rs', 'ReplicaSet');
    enqueueOwner(e.previous, 'rs', 'ReplicaSet');
    enqueueOwner(pod, 'ds', 'DaemonSet');
    enqueueOwner(e.previous, 'ds', 'DaemonSet');
    if (e.type !== 'DELETED' && !controllerOf(pod)) {
      for (const rs of store.list(keys.replicasets, ns)) {
        if (selectorMatches(objAt(specAt(rs).selector), labelsAt(pod))) enqueue('rs', ns, nameAt(rs));
      }
      for (const ds of store.list(keys.daemonsets, ns)) {
        if (selectorMatches(objAt(specAt(ds).selector), labelsAt(pod))) enqueue('ds', ns, nameAt(ds));
      }
    }
    if (e.type === 'DELETED') {
      // A Recreate rollout waits for the old pods to be gone.
      const ref = controllerOf(pod);
      const rs =
        ref && ref.kind === 'ReplicaSet' ? store.get(keys.replicasets, ns, strAt(ref.name)) : undefined;
      enqueueOwner(rs, 'deploy', 'Deployment');
    }
    enqueueServicesOf(ns, [pod, e.previous]);
  };

  const onService = (e: StoreEvent): void => {
    enqueue('eps', namespaceAt(e.object), nameAt(e.object));
    enqueue('ep', namespaceAt(e.object), nameAt(e.object));
  };

  const onSlice = (e: StoreEvent): void => {
    const labels = labelsAt(e.object);
    const svc = labels[SERVICE_NAME_LABEL];
    if (labels[MANAGED_BY_LABEL] !== MANAGED_BY || svc === undefined) return;
    if (writingFor === `${namespaceAt(e.object)}/${svc}`) return;
    enqueue('eps', namespaceAt(e.object), svc);
  };

  const onEndpoints = (e: StoreEvent): void => {
    if (e.type !== 'DELETED' || writingFor === `${namespaceAt(e.object)}/${nameAt(e.object)}`) return;
    enqueue('ep', namespaceAt(e.object), nameAt(e.object));
  };

  const onNode = (e: StoreEvent): void => {
    const zone = (o: JsonObject | undefined): string | undefined =>
      o ? labelsAt(o)['topology.kubernetes.io/zone'] : undefined;
    if (e.type === 'MODIFIED' && zone(e.object) === zone(e.previous)) return;
    for (const svc of store.list(keys.services))
      if (managesService(svc)) enqueue('eps', namespaceAt(svc), nameAt(svc));
  };

  const onDaemonSet = (e: StoreEvent): void => {
    if (e.type !== 'DELETED') enqueue('ds', namespaceAt(e.object), nameAt(e.object));
  };

  /** A DaemonSet is planned again when a Node appears, goes, or changes whether it may run its pod. */
  const onNodeForDaemonSets = (e: StoreEvent): void => {
    for (const ds of store.list(keys.daemonsets)) {
      if (e.type === 'MODIFIED') {
        const before = nodePlacement(ds, e.previous);
        const after = nodePlacement(ds, e.object);
        if (
          before.shouldRun === after.shouldRun &&
          before.shouldContinueRunning === after.shouldContinueRunning
        )
          continue;
      }
      enqueue('ds', namespaceAt(ds), nameAt(ds));
    }
  };

  const unsubscribe = [
    store.subscribe(keys.deployments, onDeployment),
    store.subscribe(keys.replicasets, onReplicaSet),
    store.subscribe(keys.daemonsets, onDaemonSet),
    store.subscribe(keys.pods, onPod),
    store.subscribe(keys.services, onService),
    store.subscribe(keys.endpointslices, onSlice),
    store.subscribe(keys.endpoints, onEndpoints),
    store.subscribe(keys.nodes, onNode),
    store.subscribe(keys.nodes, onNodeForDaemonSets),
  ];

  // Objects that exist before the controllers start get a first sync, as after an informer's list.
  for (const d of store.list(keys.deployments)) enqueue('deploy', namespaceAt(d), nameAt(d));
  for (const rs of store.list(keys.replicasets)) enqueue('rs', namespaceAt(rs), nameAt(rs));
  for (const ds of store.list(keys.daemonsets)) enqueue('ds', namespaceAt(ds), nameAt(ds));
  for (const svc of store.list(keys.services)) {
    enqueue('eps', namespaceAt(svc), nameAt(svc));
    enqueue('ep', namespaceAt(svc), nameAt(svc));
  }

  return () => {
    for (const u of unsubscribe) u();
    queue.stop();
  };
}
