// DaemonSet controller core (pure): DaemonSet + Nodes + pods → the pods to adopt, release, create and
// delete (one per eligible Node, RollingUpdate or OnDelete) and the status kube-controller-manager writes.
import type { Json, JsonObject } from '../types.js';
import { clone, isObject } from '../types.js';
import {
  controllerOf,
  controllerRef,
  isDeleting,
  labelsAt,
  listAt,
  metaAt,
  nameAt,
  namespaceAt,
  numAt,
  objAt,
  scaledValue,
  selectorMatches,
  specAt,
  statusAt,
  strAt,
  stringMap,
  timeMs,
  uidAt,
} from './objects.js';
import { isAvailable, isReady, isTerminal, readySinceMs } from './pods.js';
import { minReadySecondsOf } from './replicaset.js';
import { podTemplateHash } from './template-hash.js';

/** The label kube puts the template's hash under (the name suffix of its ControllerRevision). */
export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** kube's cap on pods created, and separately on pods deleted, by one sync. */
export const BURST_PODS = 250;

export interface DaemonSetInput {
  daemonSet: JsonObject;
  /** Every Node of the cluster. */
  nodes: JsonObject[];
  /** The DaemonSet's namespace's pods. */
  pods: JsonObject[];
  nowMs: number;
}

export interface DaemonSetPlan {
  /** Orphan pods matching the selector, to take ownership of. */
  adopt: JsonObject[];
  /** Owned pods that no longer match the selector, to let go of. */
  release: JsonObject[];
  /** Pods to create, each already bound to its Node through spec.nodeName (the sandbox has no scheduler). */
  create: JsonObject[];
  /** Pods to delete. */
  remove: JsonObject[];
  /** The new status, from the pods as read (before this plan's writes); absent while being deleted. */
  status?: JsonObject;
  /** A ready pod becomes available (minReadySeconds) after this long: sync again then. */
  requeueAfterMs?: number;
}

/** Whether a new daemon pod belongs on a Node, and whether one already there may stay. */
export interface Placement {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

const NOWHERE: Placement = { shouldRun: false, shouldContinueRunning: false };

// ------------------------------------------------------------------------------- node eligibility

const strings = (v: Json | undefined): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** One v1.NodeSelectorRequirement against a value (undefined: the label is absent). */
function requirementMatches(req: JsonObject, value: string | undefined): boolean {
  const values = strings(req.values);
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const bound = Number(values[0]);
      if (value === undefined || !/^-?\d+$/.test(value) || !Number.isInteger(bound)) return false;
      return req.operator === 'Gt' ? Number(value) > bound : Number(value) < bound;
    }
    default:
      return false;
  }
}

/** The required node affinity (nodeSelectorTerms ORed; an empty term matches nothing), if any. */
function requiredAffinityMatches(podSpec: JsonObject, node: JsonObject): boolean {
  const required = objAt(
    objAt(objAt(podSpec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
  );
  if (!Array.isArray(required.nodeSelectorTerms)) return true;
  const labels = labelsAt(node);
  const fields: Record<string, string> = { 'metadata.name': nameAt(node) };
  return listAt(required.nodeSelectorTerms).some((term) => {
    const exprs = listAt(term.matchExpressions);
    const fieldReqs = listAt(term.matchFields);
    if (exprs.length === 0 && fieldReqs.length === 0) return false;
    return (
      exprs.every((r) => requirementMatches(r, labels[strAt(r.key)])) &&
      fieldReqs.every((r) => requirementMatches(r, fields[strAt(r.key)]))
    );
  });
}

/**
 * Where the DaemonSet's pods go. A Node being deleted or cordoned (spec.unschedulable) gets no new pod
 * but keeps the one it has; a missing Node, or a template nodeName, nodeSelector or required node
 * affinity that does not match the Node, rules it out entirely, and its pods are deleted.
 *
 * Taints are not modelled: every taint counts as tolerated (kube keeps daemon pods off nodes with
 * untolerated NoSchedule taints and evicts them on untolerated NoExecute ones). Note that real kube gives
 * daemon pods a toleration for node.kubernetes.io/unschedulable and so does place them on cordoned
 * Nodes; the sandbox keeps new pods off cordoned Nodes instead.
 */
export function nodePlacement(daemonSet: JsonObject, node: JsonObject | undefined): Placement {
  if (!node) return NOWHERE;
  const podSpec = specAt(objAt(specAt(daemonSet).template));
  const wantedNode = strAt(podSpec.nodeName);
  if (wantedNode !== '' && wantedNode !== nameAt(node)) return NOWHERE;
  const labels = labelsAt(node);
  const selector = stringMap(podSpec.nodeSelector);
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return NOWHERE;
  if (!requiredAffinityMatches(podSpec, node)) return NOWHERE;
  if (isDeleting(node) || specAt(node).unschedulable === true) {
    return { shouldRun: false, shouldContinueRunning: true };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

// ------------------------------------------------------------------------------- pods

/** The Node a daemon pod is for: spec.nodeName, or else the single name its required node affinity pins. */
function targetNode(pod: JsonObject): string {
  const bound = strAt(specAt(pod).nodeName);
  if (bound !== '') return bound;
  const required = objAt(
    objAt(objAt(specAt(pod).affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
  );
  for (const term of listAt(required.nodeSelectorTerms)) {
    for (const r of listAt(term.matchFields)) {
      const values = strings(r.values);
      if (strAt(r.key) === 'metadata.name' && r.operator === 'In' && values.length === 1)
        return values[0] ?? '';
    }
  }
  return '';
}

/** Bound pods first, then oldest first, then by name: the first one is the pod a Node keeps. */
function oldestFirst(pods: JsonObject[]): JsonObject[] {
  const created = (p: JsonObject): number => timeMs(metaAt(p).creationTimestamp) ?? 0;
  return [...pods].sort((a, b) => {
    const ba = strAt(specAt(a).nodeName) !== '';
    const bb = strAt(specAt(b).nodeName) !== '';
    if (ba !== bb) return ba ? -1 : 1;
    if (created(a) !== created(b)) return created(a) - created(b);
    return nameAt(a) < nameAt(b) ? -1 : nameAt(a) > nameAt(b) ? 1 : 0;
  });
}

/** The hash of the pod template and status.collisionCount, as kube names the ControllerRevision. */
export function daemonSetHash(daemonSet: JsonObject): string {
  const collisions = statusAt(daemonSet).collisionCount;
  return podTemplateHash(
    objAt(specAt(daemonSet).template),
    typeof collisions === 'number' ? collisions : undefined,
  );
}

const generationOf = (daemonSet: JsonObject): number => numAt(metaAt(daemonSet).generation);

/** Made from the current template: its hash label matches, or its generation label is the current one. */
function isUpdated(pod: JsonObject, hash: string, generation: number): boolean {
  const labels = labelsAt(pod);
  return labels[REVISION_HASH_LABEL] === hash || labels[TEMPLATE_GENERATION_LABEL] === String(generation);
}

/** kube's default tolerations for daemon pods (taints are otherwise not modelled here). */
function withDaemonTolerations(podSpec: JsonObject): void {
  const wanted: [key: string, effect: string][] = [
    ['node.kubernetes.io/not-ready', 'NoExecute'],
    ['node.kubernetes.io/unreachable', 'NoExecute'],
    ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
    ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
    ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
    ['node.kubernetes.io/unschedulable', 'NoSchedule'],
  ];
  if (podSpec.hostNetwork === true) wanted.push(['node.kubernetes.io/network-unavailable', 'NoSchedule']);
  const tolerations: Json[] = Array.isArray(podSpec.tolerations) ? [...podSpec.tolerations] : [];
  for (const [key, effect] of wanted) {
    const toleration: JsonObject = { key, operator: 'Exists', effect };
    const i = tolerations.findIndex(
      (t) => isObject(t) && t.key === key && t.effect === effect && t.operator === 'Exists' && !t.value,
    );
    if (i < 0) tolerations.push(toleration);
    else tolerations[i] = toleration;
  }
  podSpec.tolerations = tolerations;
}

/**
 * The pod the DaemonSet creates for `node`: the template's labels plus the hash and generation labels,
 * its annotations, finalizers and spec, bound to the Node, pinned to it by node affinity as kube pins it,
 * named `<daemonset>-<5 random characters>`.
 */
export function daemonPod(daemonSet: JsonObject, node: string, hash: string): JsonObject {
  const template = objAt(specAt(daemonSet).template);
  const tmeta = objAt(template.metadata);
  const meta: JsonObject = { generateName: `${nameAt(daemonSet)}-`, namespace: namespaceAt(daemonSet) };
  meta.labels = {
    ...stringMap(tmeta.labels),
    [REVISION_HASH_LABEL]: hash,
    [TEMPLATE_GENERATION_LABEL]: String(generationOf(daemonSet)),
  };
  if (Object.keys(objAt(tmeta.annotations)).length > 0) meta.annotations = clone(objAt(tmeta.annotations));
  const finalizers = strings(tmeta.finalizers);
  if (finalizers.length > 0) meta.finalizers = finalizers;
  meta.ownerReferences = [controllerRef(daemonSet, 'apps/v1', 'DaemonSet')];
  const spec = clone(objAt(template.spec));
  withDaemonTolerations(spec);
  const pin: JsonObject = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
  };
  const affinity = clone(objAt(spec.affinity));
  affinity.nodeAffinity = {
    ...objAt(affinity.nodeAffinity),
    requiredDuringSchedulingIgnoredDuringExecution: pin,
  };
  spec.affinity = affinity;
  spec.nodeName = node;
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec };
}

// ------------------------------------------------------------------------------- strategy

const isRollingUpdate = (ds: JsonObject): boolean =>
  (strAt(objAt(specAt(ds).updateStrategy).type) || 'RollingUpdate') === 'RollingUpdate';

/** maxSurge and maxUnavailable against `desired` Nodes (both rounded up); both zero means unavailable=1. */
export function rollingLimits(ds: JsonObject, desired: number): { surge: number; unavailable: number } {
  if (!isRollingUpdate(ds)) return { surge: 0, unavailable: 0 };
  const ru = objAt(objAt(specAt(ds).updateStrategy).rollingUpdate);
  const surge = scaledValue(ru.maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
  if (desired > 0 && surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** Whether a rolling update may run an old and a new pod side by side on one Node. */
const allowsSurge = (ds: JsonObject): boolean => rollingLimits(ds, 1).surge > 0;

/** A Node's live pods split by template; undefined when it has more than one of either kind. */
function splitByTemplate(
  pods: JsonObject[],
  hash: string,
  generation: number,
): { fresh?: JsonObject; old?: JsonObject } | undefined {
  let fresh: JsonObject | undefined;
  let old: JsonObject | undefined;
  for (const pod of pods) {
    if (isDeleting(pod)) continue;
    if (isUpdated(pod, hash, generation)) {
      if (fresh) return undefined;
      fresh = pod;
    } else {
      if (old) return undefined;
      old = pod;
    }
  }
  return { ...(fresh ? { fresh } : {}), ...(old ? { old } : {}) };
}

// ------------------------------------------------------------------------------- planner

interface Claim {
  adopt: JsonObject[];
  release: JsonObject[];
  owned: JsonObject[];
}

/** The pods the DaemonSet controls, adopting matching orphans; terminal pods being deleted are done with. */
function claimPods(ds: JsonObject, pods: JsonObject[]): Claim {
  const uid = uidAt(ds);
  const selector = objAt(specAt(ds).selector);
  const claim: Claim = { adopt: [], release: [], owned: [] };
  for (const pod of pods) {
    if (isTerminal(pod) && isDeleting(pod)) continue;
    const matches = selectorMatches(selector, labelsAt(pod));
    const ref = controllerOf(pod);
    if (ref) {
      if (strAt(ref.uid) !== uid) continue;
      if (matches) claim.owned.push(pod);
      else claim.release.push(pod);
      continue;
    }
    if (!matches || isDeleting(pod)) continue;
    claim.adopt.push(pod);
    claim.owned.push(pod);
  }
  return claim;
}

/** Collects pod deletions once each, in order. */
class Removals {
  private readonly byUid = new Map<string, JsonObject>();
  add(pod: JsonObject): void {
    if (!isDeleting(pod) && !this.byUid.has(uidAt(pod))) this.byUid.set(uidAt(pod), pod);
  }
  list(): JsonObject[] {
    return [...this.byUid.values()];
  }
}

/**
 * Plans one sync of a DaemonSet. Placement: a pod is created on each Node that should run one and has
 * none (not even one still terminating); failed or finished pods are deleted, and so are extra pods on a
 * Node (all but the oldest; with surge, all but the oldest old and oldest new) and pods on Nodes they do
 * not belong on. The sandbox has no pod garbage collector, so pods bound to Nodes that no longer exist
 * are deleted here too. RollingUpdate then replaces old-template pods within maxUnavailable (deleting;
 * the next sync creates the replacement) or maxSurge (creating beside; the old one goes once the new one
 * is available). OnDelete only ever creates on empty Nodes, which then get the current template.
 */
export function planDaemonSet(input: DaemonSetInput): DaemonSetPlan {
  const ds = input.daemonSet;
  const plan: DaemonSetPlan = { adopt: [], release: [], create: [], remove: [] };
  // kube leaves a DaemonSet being deleted alone: the garbage collector takes its pods.
  if (isDeleting(ds)) return plan;
  const claim = claimPods(ds, input.pods);
  plan.adopt = claim.adopt;
  plan.release = claim.release;

  const hash = daemonSetHash(ds);
  const generation = generationOf(ds);
  const minReady = minReadySecondsOf(ds);
  const available = (pod: JsonObject): boolean => isAvailable(pod, minReady, input.nowMs);
  const surgeAllowed = allowsSurge(ds);

  const nodes = new Map<string, JsonObject>();
  for (const node of input.nodes) nodes.set(nameAt(node), node);
  const byNode = new Map<string, JsonObject[]>();
  for (const pod of claim.owned) {
    const node = targetNode(pod);
    if (node === '') continue;
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  const nodeNames = [...nodes.keys()].sort();
  const placement = new Map(nodeNames.map((n) => [n, nodePlacement(ds, nodes.get(n))]));

  const createOn: string[] = [];
  const removals = new Removals();
  for (const name of nodeNames) {
    const place = placement.get(name) ?? NOWHERE;
    const onNode = byNode.get(name) ?? [];
    if (place.shouldRun && onNode.length === 0) {
      createOn.push(name);
      continue;
    }
    if (!place.shouldContinueRunning) {
      onNode.forEach((p) => removals.add(p));
      continue;
    }
    const running: JsonObject[] = [];
    for (const pod of onNode) {
      if (isDeleting(pod)) continue;
      if (isTerminal(pod)) removals.add(pod);
      else running.push(pod);
    }
    const ordered = oldestFirst(running);
    if (!surgeAllowed) {
      ordered.slice(1).forEach((p) => removals.add(p));
      continue;
    }
    let oldestNew: JsonObject | undefined;
    let oldestOld: JsonObject | undefined;
    for (const pod of ordered) {
      if (isUpdated(pod, hash, generation)) {
        if (!oldestNew) oldestNew = pod;
        else removals.add(pod);
      } else if (!oldestOld) oldestOld = pod;
      else removals.add(pod);
    }
    if (oldestNew && oldestOld && (!isReady(oldestOld) || available(oldestNew))) removals.add(oldestOld);
  }
  for (const [name, onNode] of byNode) if (!nodes.has(name)) onNode.forEach((p) => removals.add(p));

  const desired = nodeNames.filter((n) => placement.get(n)?.shouldRun).length;
  if (isRollingUpdate(ds)) {
    const { surge, unavailable } = rollingLimits(ds, desired);
    // The Nodes that take a new pod, with or without pods now (an empty one counts as unavailable);
    // an old pod elsewhere would not be replaced, so it is not rolled.
    const rolled = nodeNames.filter((n) => placement.get(n)?.shouldRun);
    if (!surgeAllowed) {
      // Unavailable: a Node with no live pod (none yet, or one still terminating), with an old and a new
      // one or extra pods (placement sorts those out), or with a new pod not yet available.
      let unavailableNodes = 0;
      const replaceNow: JsonObject[] = [];
      const candidates: JsonObject[] = [];
      for (const name of rolled) {
        const split = splitByTemplate(byNode.get(name) ?? [], hash, generation);
        if (!split) {
          unavailableNodes++;
          continue;
        }
        if (!split.old) {
          if (!split.fresh || !available(split.fresh)) unavailableNodes++;
        } else if (split.fresh) unavailableNodes++;
        else if (!available(split.old)) replaceNow.push(split.old);
        else candidates.push(split.old);
      }
      const room = Math.min(Math.max(0, unavailable - unavailableNodes), candidates.length);
      [...replaceNow, ...candidates.slice(0, room)].forEach((p) => removals.add(p));
    } else {
      let surging = 0;
      const surgeNow: string[] = [];
      const candidates: string[] = [];
      for (const name of rolled) {
        const split = splitByTemplate(byNode.get(name) ?? [], hash, generation);
        if (!split) {
          surging++;
          continue;
        }
        if (!split.old) continue;
        if (split.fresh) {
          if (available(split.fresh)) removals.add(split.old);
          else surging++;
          continue;
        }
        if (!available(split.old)) surgeNow.push(name);
        else candidates.push(name);
      }
      const room = Math.min(Math.max(0, surge - surging), candidates.length);
      createOn.push(...surgeNow, ...candidates.slice(0, room));
    }
  }

  plan.create = createOn.slice(0, BURST_PODS).map((n) => daemonPod(ds, n, hash));
  plan.remove = removals.list().slice(0, BURST_PODS);
  const { status, requeueAfterMs } = daemonSetStatus(ds, nodeNames, placement, byNode, input.nowMs);
  plan.status = status;
  if (requeueAfterMs !== undefined) plan.requeueAfterMs = requeueAfterMs;
  return plan;
}

// ------------------------------------------------------------------------------- status

/**
 * apps/v1 DaemonSetStatus as kube fills it: per Node that should run a pod, its oldest live pod counts
 * as scheduled, ready, available and updated; a live pod on a Node that should not run one counts as
 * misscheduled. Pods being deleted count for nothing. observedGeneration, updatedNumberScheduled,
 * numberAvailable and numberUnavailable are omitempty in the Go struct, so zeros are left out;
 * collisionCount and conditions are carried over.
 */
function daemonSetStatus(
  ds: JsonObject,
  nodeNames: string[],
  placement: Map<string, Placement>,
  byNode: Map<string, JsonObject[]>,
  nowMs: number,
): { status: JsonObject; requeueAfterMs?: number } {
  const hash = daemonSetHash(ds);
  const generation = generationOf(ds);
  const minReady = minReadySecondsOf(ds);
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const name of nodeNames) {
    const live = (byNode.get(name) ?? []).filter((p) => !isDeleting(p));
    if (!placement.get(name)?.shouldRun) {
      if (live.length > 0) misscheduled++;
      continue;
    }
    desired++;
    const pod = oldestFirst(live)[0];
    if (!pod) continue;
    current++;
    if (isReady(pod)) {
      ready++;
      if (isAvailable(pod, minReady, nowMs)) available++;
    }
    if (isUpdated(pod, hash, generation)) updated++;
  }
  const prior = statusAt(ds);
  const status: JsonObject = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
  };
  if (generation > 0) status.observedGeneration = generation;
  if (updated > 0) status.updatedNumberScheduled = updated;
  if (available > 0) status.numberAvailable = available;
  if (desired - available > 0) status.numberUnavailable = desired - available;
  if (prior.collisionCount !== undefined) status.collisionCount = prior.collisionCount;
  if (listAt(prior.conditions).length > 0) status.conditions = clone(prior.conditions ?? []);

  // Any live ready pod still inside minReadySeconds (a surge pod too) changes what the next sync does.
  let nextMs: number | undefined;
  if (minReady > 0) {
    for (const pods of byNode.values()) {
      for (const pod of pods) {
        if (isDeleting(pod) || !isReady(pod) || isAvailable(pod, minReady, nowMs)) continue;
        const at = (readySinceMs(pod) ?? nowMs) + minReady * 1000 + 1;
        nextMs = nextMs === undefined ? at : Math.min(nextMs, at);
      }
    }
  }
  return nextMs === undefined ? { status } : { status, requeueAfterMs: Math.max(0, nextMs - nowMs) };
}
